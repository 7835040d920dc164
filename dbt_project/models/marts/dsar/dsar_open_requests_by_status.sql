-- Open requests per status: how many, how many overdue, how many stalled.
-- A view over fct_dsar_requests, so it is as current as the register.
{{ config(materialized='view') }}

with

requests as (

    select * from {{ ref('fct_dsar_requests') }}
    where is_open

),

final as (

    select
        status,
        count(*) as requests,
        count(*) filter (where is_overdue) as overdue,
        count(*) filter (where is_stalled) as stalled

    from requests
    group by status

)

select * from final
