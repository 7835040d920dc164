-- Expectations run and passed per night (UTC day of the run), over every
-- suite: the dashboard's trend. A view over steward.quality_results.
{{ config(materialized='view') }}

with

results as (

    select
        run_at,
        success
    from {{ source('steward', 'quality_results') }}

),

final as (

    select
        (run_at at time zone 'UTC')::date as night,
        count(*) as expectation_count,
        count(*) filter (where success) as passed_count

    from results
    group by (run_at at time zone 'UTC')::date

)

select * from final
