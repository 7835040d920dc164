-- What the access review found against the policy: roles reading personal
-- columns of source tables directly, or another role's governed view. Read by
-- the dashboard and by the test access_review_violations.
with

review as (

    select * from {{ ref('access_review') }}

),

final as (

    select
        role_name,
        can_login,
        is_superuser,
        object_kind,
        schema_name,
        table_name,
        column_name,
        data_category,
        classification,
        access_kind,
        members,
        member_of,
        reviewed_at,
        case access_kind
            when 'other_role_view' then 'reads a governed view made for another role'
            when 'superuser' then 'superuser, and the policy denies superusers'
            else 'can read a personal column of the source table directly'
        end as finding
    from review
    where not is_allowed

)

select * from final
