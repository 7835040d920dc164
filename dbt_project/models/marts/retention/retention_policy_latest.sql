-- Each retention policy's latest decision: the last run's plan for it (rows
-- overdue, held back, due, the due share) and its status. A policy stopped
-- by the circuit breaker stays stopped until a steward approves it
-- (`steward retention approve POLICY`): is_approved says whether an
-- unconsumed approval covers the rows due. A view over the executor's own
-- tables (steward.retention.store), as current as they are.
{{ config(materialized='view') }}

with

runs as (

    select
        run_id,
        started_at
    from {{ source('steward', 'retention_runs') }}

),

run_policies as (

    select
        run_id,
        policy_name,
        policy_status,
        overdue_rows,
        held_rows,
        due_rows,
        table_rows,
        due_share
    from {{ source('steward', 'retention_run_policies') }}

),

approvals as (

    select
        policy_name,
        approved_due_rows,
        consumed_by_run
    from {{ source('steward', 'retention_approvals') }}

),

latest as (

    select distinct on (run_policies.policy_name)
        run_policies.policy_name,
        run_policies.run_id,
        runs.started_at,
        run_policies.policy_status,
        run_policies.overdue_rows,
        run_policies.held_rows,
        run_policies.due_rows,
        run_policies.table_rows,
        run_policies.due_share

    from run_policies
    inner join runs on run_policies.run_id = runs.run_id
    order by run_policies.policy_name asc, runs.started_at desc

),

open_approvals as (

    select
        policy_name,
        max(approved_due_rows) as approved_due_rows

    from approvals
    where consumed_by_run is null
    group by policy_name

),

final as (

    select
        latest.policy_name,
        latest.run_id,
        latest.started_at,
        latest.policy_status,
        latest.overdue_rows,
        latest.held_rows,
        latest.due_rows,
        latest.table_rows,
        latest.due_share,
        latest.policy_status = 'stopped_by_breaker' as is_stopped,
        coalesce(open_approvals.approved_due_rows >= latest.due_rows, false) as is_approved

    from latest
    left join open_approvals on latest.policy_name = open_approvals.policy_name

)

select * from final
