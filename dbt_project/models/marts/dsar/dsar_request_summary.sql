-- The request register in one row: what the stewards' dashboard and reports
-- show as headline figures (counts and days only). A view over
-- fct_dsar_requests, so it is as current as the register.
{{ config(materialized='view') }}

with

requests as (

    select * from {{ ref('fct_dsar_requests') }}

),

final as (

    select
        current_date as as_of,
        count(*) as received,
        count(*) filter (where is_open) as open_requests,
        count(*) filter (where is_overdue) as overdue,
        count(*) filter (where is_stalled) as stalled,
        count(*) filter (where outcome like 'completed%') as completed,
        count(*) filter (where outcome = 'completed_on_time') as completed_on_time,
        count(*) filter (where outcome = 'completed_late') as completed_late,
        count(*) filter (where status = 'rejected') as rejected,
        count(*) filter (where outcome = 'rejected_invalid') as rejected_invalid,
        count(*) filter (where outcome = 'rejected_unverified') as rejected_unverified,
        count(*) filter (where outcome = 'rejected_other') as rejected_other,
        percentile_cont(0.5) within group (order by days_to_close) filter (
            where outcome like 'completed%'
        ) as median_days_to_complete

    from requests

)

select * from final
