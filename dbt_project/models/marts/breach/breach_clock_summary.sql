-- The breach clock in one row, for the stewards' dashboard: open incidents
-- with a required notice, notices still to give (running, overdue or without
-- undue delay) and those overdue. A view over breach_deadlines, computed when
-- read like the clock itself.
{{ config(materialized='view') }}

with

deadlines as (

    select * from {{ ref('breach_deadlines') }}

),

final as (

    select
        count(distinct incident_id) as open_incidents,
        count(*) filter (
            where clock_state in ('running', 'overdue', 'without_undue_delay')
        ) as pending_notices,
        count(*) filter (where clock_state = 'overdue') as overdue_notices

    from deadlines

)

select * from final
