-- Roles that can read personal data against the access policy (the nightly
-- access review). Severity is the var steward_access_violation_severity (warn by
-- default; error to fail the run).
{{ config(severity=var('steward_access_violation_severity', 'warn')) }}

with

violations as (

    select * from {{ ref('access_violations') }}

),

final as (

    select
        role_name,
        object_kind,
        schema_name,
        table_name,
        column_name,
        access_kind
    from violations

)

select * from final
