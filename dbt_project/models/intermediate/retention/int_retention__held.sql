-- Overdue rows a legal hold protects: by subject (the customer the row is
-- about), by record (its key), or by table and a date range of its clock.
{{ config(materialized='view') }}

with

overdue as (

    select * from {{ ref('int_retention__overdue') }}

),

holds as (

    select * from {{ ref('int_retention__active_holds') }}

),

matched as (

    select
        overdue.policy_name,
        overdue.record_key,
        holds.hold_id

    from overdue
    inner join holds
        on
            (holds.hold_scope = 'subject' and overdue.subject_customer_id = holds.customer_id)
            or (
                holds.hold_scope = 'record'
                and overdue.policy_name = holds.source_table
                and overdue.record_key = holds.record_key
            )
            or (
                holds.hold_scope = 'table'
                and overdue.policy_name = holds.source_table
                and overdue.clock_at::date >= coalesce(holds.date_from, '-infinity'::date)
                and overdue.clock_at::date <= coalesce(holds.date_to, 'infinity'::date)
            )

),

final as (

    select
        policy_name,
        record_key,
        string_agg(hold_id::text, ',' order by hold_id) as hold_ids

    from matched
    group by policy_name, record_key

)

select * from final
