-- The last applied run of the free-text redaction (steward.redaction.runner;
-- a dry run records nothing): its status and times, how many applied runs
-- there have been, and the rows it rewrote as its audit-log entry says. One
-- row, none before the first applied run. A view over the runner's own tables.
{{ config(materialized='view') }}

with

runs as (

    select
        run_id,
        status,
        started_at,
        finished_at
    from {{ source('steward', 'redaction_runs') }}

),

audit_log as (

    select
        seq,
        action,
        details
    from {{ source('steward', 'audit_log') }}
    where action = 'redaction.run'

),

last_run as (

    select
        run_id,
        status,
        started_at,
        finished_at,
        count(*) over () as applied_runs

    from runs
    order by run_id desc
    limit 1

),

final as (

    select
        last_run.run_id,
        last_run.status,
        last_run.started_at,
        last_run.finished_at,
        last_run.applied_runs,
        (
            select (audit_log.details ->> 'rows_changed')::bigint
            from audit_log
            where audit_log.details ->> 'run_id' = last_run.run_id::text
            order by audit_log.seq desc
            limit 1
        ) as rows_changed

    from last_run

)

select * from final
