-- Governance gaps counted per kind (undeclared, category_mismatch,
-- no_evidence): the dashboard's headline figures over catalogue_drift.
with

drift as (

    select * from {{ ref('catalogue_drift') }}

),

final as (

    select
        drift_kind,
        count(*) as column_count

    from drift
    group by drift_kind

)

select * from final
