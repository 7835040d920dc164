-- The latest run of each Great Expectations suite: expectations run and
-- passed, and the failing checks by name. A view over
-- steward.quality_results (steward.quality.checkpoint: one row per run and
-- check, counts and shares only), as current as it is.
{{ config(materialized='view') }}

with

results as (

    select
        run_id,
        run_at,
        suite_name,
        check_name,
        success
    from {{ source('steward', 'quality_results') }}

),

latest_runs as (

    select distinct on (suite_name)
        suite_name,
        run_id,
        run_at

    from results
    order by suite_name asc, run_at desc

),

final as (

    select
        latest_runs.suite_name,
        latest_runs.run_id,
        latest_runs.run_at,
        count(*) as expectation_count,
        count(*) filter (where results.success) as passed_count,
        coalesce(
            string_agg(results.check_name, ', ' order by results.check_name)
            filter (where not results.success),
            ''
        ) as failed_checks

    from latest_runs
    inner join results
        on
            latest_runs.suite_name = results.suite_name
            and latest_runs.run_id = results.run_id
    group by latest_runs.suite_name, latest_runs.run_id, latest_runs.run_at

)

select * from final
