"""The data map: who each source table is about and what personal data it holds.

The map is code, kept where dbt keeps its sources: each source table of
``dbt_project/models/**/_<source>__sources.yml`` carries a ``config.meta.steward``
block, and each personal column a ``config.meta.steward.data_category``::

    tables:
      - name: customer_phones
        config:
          meta:
            steward:
              subject: customer            # customer | employee | prospect | none
              subject_key: customer_id     # the column leading to the subject
              primary_key: [phone_id]
              identifiers: {customer_id: customer_id, phone: phone_raw}
              retention: {rule: closed_customer_details, clock: closed_at,
                          clock_table: crm.customers}
        columns:
          - name: phone_raw
            config: {meta: {steward: {data_category: user.contact.phone_number}}}

Table keys:

``subject`` (required)
    Whose data a row is: one of :data:`SUBJECTS`.
``subject_key``
    The column of this table that leads to the subject (``customer_id``).
``subject_key_references``
    ``schema.table`` when ``subject_key`` holds that table's (one-column) primary
    key and the subject is found through it (recordings -> calls -> customer).
``subject_found_via``
    Identifier kinds that find the subject when the table has no key (the DNC
    registry, found by phone only). A subject table needs ``subject_key`` or this.
``primary_key`` (required)
    The columns identifying a row.
``identifiers``
    Identifier kind (:data:`IDENTIFIER_KINDS`) -> column, or list of columns.
``record_time``
    The column saying when a row was created or the event happened (a call's
    ``started_at``): a breach's time window counts the rows that existed in it.
``retention``
    ``rule`` (a ``rule_name`` of ``seeds/retention_rules.csv``) and ``clock``
    (the column the period counts from; a null clock never expires). With
    ``clock_table``, the clock is that table's column, joined on the subject key.
    Required for customer and prospect tables.

Every column a map names must be listed under the table's ``columns``, and
:func:`validate_against_warehouse` checks every listed column exists.
Parsing is plain PyYAML: no dbt invocation, no database.
"""

from steward.datamap.loader import load_data_map
from steward.datamap.model import (
    COLUMN_KEYS,
    IDENTIFIER_KINDS,
    META_KEY,
    PERIOD_UNITS,
    RETENTION_ACTIONS,
    RETENTION_KEYS,
    RETENTION_RULE_COLUMNS,
    RETENTION_RULES_FILE,
    SUBJECTS,
    SUBJECTS_NEEDING_RETENTION,
    TABLE_KEYS,
    TAXONOMY,
    ColumnMap,
    DataMap,
    DataMapError,
    RetentionRule,
    TableMap,
)
from steward.datamap.warehouse_check import validate_against_warehouse

__all__ = [
    "COLUMN_KEYS",
    "IDENTIFIER_KINDS",
    "META_KEY",
    "PERIOD_UNITS",
    "RETENTION_ACTIONS",
    "RETENTION_KEYS",
    "RETENTION_RULES_FILE",
    "RETENTION_RULE_COLUMNS",
    "SUBJECTS",
    "SUBJECTS_NEEDING_RETENTION",
    "TABLE_KEYS",
    "TAXONOMY",
    "ColumnMap",
    "DataMap",
    "DataMapError",
    "RetentionRule",
    "TableMap",
    "load_data_map",
    "validate_against_warehouse",
]
