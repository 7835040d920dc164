-- Card-number columns holding full card numbers (PCI DSS), as the redaction
-- runner last checked them: rows with a full number, held back by a legal
-- hold, truncated so far, and whether truncation was approved. Counts only.
{{ config(materialized='view') }}

with

violations as (

    select
        table_name,
        column_name,
        full_card_rows,
        held_rows,
        truncated_rows,
        checked_at,
        approved_at
    from {{ source('steward', 'pci_violations') }}

),

final as (

    select
        table_name,
        column_name,
        full_card_rows,
        held_rows,
        truncated_rows,
        checked_at,
        table_name || '.' || column_name as column_location,
        approved_at is not null as is_approved

    from violations

)

select * from final
