"""Role-based access to personal data, generated from the data map and the PII catalogue.

``policy``: the role policy file (which role sees which data category how),
validated; ``apply``: loads it into the warehouse, creates the database roles and
re-generates the ``governed`` views through dbt; ``review``: the nightly access
review (who can read which personal column directly), read back from its marts.
"""
