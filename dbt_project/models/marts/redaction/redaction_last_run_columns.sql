-- The candidate rows of the last applied redaction run, per column: to
-- redact (or truncate), done, reported only, held back by a legal hold.
-- Counts only: the plan's row keys stay in steward.redaction_plan.
{{ config(materialized='view') }}

with

plan as (

    select
        run_id,
        table_name,
        column_name,
        action as plan_action,
        done
    from {{ source('steward', 'redaction_plan') }}

),

runs as (

    select run_id
    from {{ source('steward', 'redaction_runs') }}

),

last_run as (

    select max(run_id) as run_id from runs

),

final as (

    select
        plan.table_name,
        plan.column_name,
        plan.table_name || '.' || plan.column_name as column_location,
        count(*) filter (where plan.plan_action in ('redact', 'truncate')) as planned_rows,
        count(*) filter (where plan.plan_action in ('redact', 'truncate') and plan.done)
            as done_rows,
        count(*) filter (where plan.plan_action = 'report') as reported_rows,
        count(*) filter (where plan.plan_action = 'held') as held_rows

    from plan
    inner join last_run on plan.run_id = last_run.run_id
    group by plan.table_name, plan.column_name

)

select * from final
