"""Redaction of card data, CVVs, SSNs and bank details in free text (PCI DSS 3.3/3.4).

* :mod:`.text`: what is rewritten inside one text, by the catalogue's own
  detectors (:func:`steward.catalogue.free_text.financial_spans`) plus the
  CVV and bank-account-in-context rules that only redaction needs.
* :mod:`.runner`: the nightly policy, through the change engine: a plan of
  candidate rows found in SQL, batches that rewrite, mark done and audit in
  one transaction, legal holds honoured, dry run by default, circuit breaker;
  full card numbers in structured columns are reported and, once approved,
  truncated to first six / last four.
"""
