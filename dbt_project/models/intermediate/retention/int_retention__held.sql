-- Overdue rows a legal hold protects: by subject (the customer the row is
-- about), by record (its key), or by table and a date range of its clock. The
-- matching rule is the macro legal_hold_matches, shared with
-- int_retention__held_rows (DSAR erasure): one definition of "held".
{{ config(materialized='view') }}

with

overdue as (

    select * from {{ ref('int_retention__overdue') }}

),

holds as (

    select * from {{ ref('int_retention__active_holds') }}

),

matched as (

    {{ legal_hold_matches('overdue', 'holds') }}

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
