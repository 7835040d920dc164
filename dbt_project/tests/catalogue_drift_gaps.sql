-- Governance gaps between the PII catalogue and the data map: personal data
-- the map does not declare, or declares under another category. Severity is
-- the var steward_catalogue_drift_severity (warn by default; error to fail).
{{ config(severity=var('steward_catalogue_drift_severity', 'warn')) }}

with

gaps as (

    select * from {{ ref('catalogue_drift') }}
    where drift_kind in ('undeclared', 'category_mismatch')

),

final as (

    select
        drift_kind,
        schema_name,
        table_name,
        column_name,
        declared_category,
        found_categories
    from gaps

)

select * from final
