"""Fuzzy de-duplication of customer records with splink on an in-process DuckDB.

``linkage.find_duplicates`` streams the compared columns out of PostgreSQL, scores
new and changed records (all of them on the first night) and writes
``steward.customer_match_pairs`` and ``steward.customer_clusters``; the dbt marts in
``models/marts/dedupe`` propose a surviving record per cluster. Nothing is merged or
deleted: stewards review.
"""
