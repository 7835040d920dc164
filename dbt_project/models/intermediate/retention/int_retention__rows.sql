-- Every row of every data-map table with a retention rule: keys, subject and
-- clock only, no personal data. What the legal-hold definition is applied to
-- when the question is "which of these rows are held" (DSAR erasure), not
-- only "which overdue rows are held" (retention).
{{ config(materialized='view') }}

with

table_rows as (

    {{ retention_rows() }}

),

final as (

    select
        policy_name,
        record_key,
        key_parts,
        subject_customer_id,
        clock_at

    from table_rows

)

select * from final
