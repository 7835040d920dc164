-- One row per (role, data-map table, column): how the role's view in schema
-- `governed` shows the column (full, masked, hashed, hidden), resolved from the
-- access policy (steward access apply) and the column's classification. The
-- post-hook re-creates the views from these rows and grants each to its role.
{{ config(post_hook="{{ governed_views() }}") }}

with

source_columns as (

    select * from {{ ref('governed_source_columns') }}

),

roles as (

    select * from {{ source('steward', 'access_policy_roles') }}

),

policy as (

    select * from {{ source('steward', 'access_policy_categories') }}

),

treated as (

    select
        roles.role_name,
        roles.database_role,
        source_columns.schema_name as source_schema,
        source_columns.table_name as source_table,
        source_columns.column_name,
        source_columns.ordinal_position,
        source_columns.classification,
        source_columns.data_category,
        policy.mask,
        case source_columns.classification
            when 'not_personal' then 'full'
            when 'undeclared' then roles.undeclared_treatment
            else coalesce(policy.treatment, roles.default_treatment)
        end as treatment
    from source_columns
    cross join roles
    left join policy
        on
            roles.role_name = policy.role_name
            and source_columns.data_category = policy.data_category
            and source_columns.classification = 'declared'

),

final as (

    select
        role_name,
        database_role,
        source_schema,
        source_table,
        column_name,
        ordinal_position,
        classification,
        data_category,
        treatment,
        role_name || '__' || source_schema || '__' || source_table as view_name,
        case when treatment = 'masked' then mask end as mask
    from treated

)

select * from final
