-- Any row of a data-map table under an active legal hold, with the holds that
-- protect it. A live view (holds as of now, or as of the session's
-- `steward.as_of`): DSAR erasure asks it which of a request's rows it must keep,
-- filtered by table and key, so PostgreSQL reads only that table.
{{ config(materialized='view') }}

with

table_rows as (

    select * from {{ ref('int_retention__rows') }}

),

holds as (

    select * from {{ ref('int_retention__active_holds') }}

),

matched as (

    {{ legal_hold_matches('table_rows', 'holds') }}

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
