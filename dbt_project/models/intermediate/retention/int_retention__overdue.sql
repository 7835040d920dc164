-- Every row of a data-map table whose retention clock plus its period lies
-- before the run's as-of instant: keys, subject and clock only, no personal data.
-- A null clock (active customer, open ticket, valid consent) never expires.
{{ config(materialized='view') }}

with

overdue as (

    {{ retention_overdue_rows(periods=ref('retention_periods')) }}

),

final as (

    select
        policy_name,
        rule_name,
        record_key,
        key_parts,
        sort_key,
        subject_customer_id,
        clock_at,
        due_at

    from overdue

)

select * from final
