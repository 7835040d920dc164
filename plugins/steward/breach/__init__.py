"""Breach impact assessment (GDPR art. 33/34, UK GDPR, HIPAA, US state laws, LGPD, PIPEDA).

``rules``: the notification rules (``dbt_project/seeds/breach_notification_rules.csv``);
``register``: the incident register and its status machine; ``exposure``: what
was exposed, resolved to columns and data categories from the data map and the
PII catalogue; ``assess``: affected subjects counted in the warehouse (set-based
SQL; counts only leave it) and the notification deadlines; ``export``: the
encrypted notification list.
"""
