"""Fuzzy de-duplication of customer records with splink, run inside PostgreSQL.

``linkage.find_duplicates`` writes ``steward.customer_match_pairs`` and
``steward.customer_clusters``; the dbt marts in ``models/marts/dedupe`` propose a
surviving record per cluster. Nothing is merged or deleted: stewards review.
"""
