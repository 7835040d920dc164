"""The PII catalogue: which columns of the warehouse hold personal data, and how sure we are."""

from steward.catalogue.scanner import ColumnFinding, ScanProblem, ScanReport, scan_schemas

__all__ = ["ColumnFinding", "ScanProblem", "ScanReport", "scan_schemas"]
