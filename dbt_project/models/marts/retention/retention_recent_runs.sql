-- The last var('retention_recent_runs', 30) runs of `steward retention run`,
-- one row per run and policy: the plan the run recorded (overdue, held back,
-- due, its status) and what it did (rows deleted and anonymised from the
-- executor's audit, recording files removed). Counts only. A view over the
-- executor's own tables (steward.retention.store), as current as they are.
{{ config(materialized='view') }}

with

runs as (

    select
        run_id,
        run_mode,
        run_status,
        started_at
    from {{ source('steward', 'retention_runs') }}

),

run_policies as (

    select
        run_id,
        policy_name,
        retention_action,
        policy_status,
        overdue_rows,
        held_rows,
        due_rows,
        table_rows,
        due_share
    from {{ source('steward', 'retention_run_policies') }}

),

audit as (

    select
        run_id,
        policy_name,
        retention_action,
        row_count
    from {{ source('steward', 'retention_audit') }}

),

files as (

    select
        run_id,
        policy_name,
        outcome
    from {{ source('steward', 'retention_files') }}

),

recent_runs as (

    select
        run_id,
        run_mode,
        run_status,
        started_at,
        row_number() over (order by started_at desc, run_id desc) as runs_ago

    from runs

),

listed_runs as (

    select * from recent_runs
    where runs_ago <= {{ var('retention_recent_runs', 30) }}

),

audit_totals as (

    select
        run_id,
        policy_name,
        sum(row_count) filter (where retention_action = 'anonymise') as anonymised_rows,
        sum(row_count) filter (where retention_action <> 'anonymise') as deleted_rows

    from audit
    where run_id in (select listed_runs.run_id from listed_runs)
    group by run_id, policy_name

),

file_totals as (

    select
        run_id,
        policy_name,
        count(*) filter (where outcome = 'removed') as files_removed

    from files
    where run_id in (select listed_runs.run_id from listed_runs)
    group by run_id, policy_name

),

final as (

    select
        listed_runs.run_id,
        listed_runs.runs_ago,
        listed_runs.started_at,
        listed_runs.run_mode,
        listed_runs.run_status,
        run_policies.policy_name,
        run_policies.retention_action,
        run_policies.policy_status,
        run_policies.overdue_rows,
        run_policies.held_rows,
        run_policies.due_rows,
        run_policies.table_rows,
        run_policies.due_share,
        coalesce(audit_totals.deleted_rows, 0) as deleted_rows,
        coalesce(audit_totals.anonymised_rows, 0) as anonymised_rows,
        coalesce(file_totals.files_removed, 0) as files_removed

    from listed_runs
    inner join run_policies on listed_runs.run_id = run_policies.run_id
    left join audit_totals
        on
            run_policies.run_id = audit_totals.run_id
            and run_policies.policy_name = audit_totals.policy_name
    left join file_totals
        on
            run_policies.run_id = file_totals.run_id
            and run_policies.policy_name = file_totals.policy_name

)

select * from final
