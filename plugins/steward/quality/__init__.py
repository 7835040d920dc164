"""Data quality with Great Expectations: the ``phone_quality`` suite on the phone marts.

``checkpoint.run_checkpoint`` validates in PostgreSQL, builds Data Docs without a
single record value, and appends a summary per expectation to
``steward.quality_results`` for the dashboard's trend.
"""
