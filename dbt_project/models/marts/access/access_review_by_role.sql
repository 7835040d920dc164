-- The access review counted per role, for the stewards' dashboard: personal
-- columns each role can read, by how (access_kind), what (a source table or a
-- governed view) and whether the policy allows it, with the role's login
-- members. Counts and role names only.
with

review as (

    select * from {{ ref('access_review') }}

),

final as (

    select
        role_name,
        access_kind,
        object_kind,
        is_allowed,
        count(*) as column_count,
        max(members) as members

    from review
    group by role_name, access_kind, object_kind, is_allowed

)

select * from final
