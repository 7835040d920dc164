-- The access review: every database role (login or group, not PostgreSQL's
-- predefined pg_* roles) that can SELECT a personal column of a data-map table
-- directly, i.e. not through a governed view, from the PostgreSQL catalogue
-- (has_column_privilege, which follows role membership). How it can, and
-- whether the access policy allows it:
--   superuser  allowed when the policy's direct_access.superusers is `allow`
--   owner      the table's owner or a member of it (the role loading the data): allowed
--   allowed    listed in the policy's direct_access.allowed_roles
--   granted    anything else (a GRANT to the role, to a group it belongs to, or to
--              PUBLIC): a violation
-- Also a violation: a role reading a governed view made for another role.
-- `members` are the login roles inheriting the role (pg_auth_members, recursively).
with recursive

personal_columns as (

    select * from {{ ref('governed_source_columns') }}
    where classification in ('declared', 'undeclared')

),

governed_views as (

    select distinct
        view_name,
        database_role
    from {{ ref('governed_columns') }}

),

governed_relations as (

    select
        governed_views.view_name,
        governed_views.database_role,
        pg_class.oid as view_oid,
        pg_class.relowner as owner_oid
    from governed_views
    inner join pg_catalog.pg_class on governed_views.view_name = pg_class.relname
    inner join pg_catalog.pg_namespace
        on
            pg_class.relnamespace = pg_namespace.oid
            and pg_namespace.nspname = 'governed'

),

settings as (

    select
        coalesce(bool_and(superusers_allowed), true) as superusers_allowed,
        coalesce(max(allowed_direct_roles), array[]::text[]) as allowed_direct_roles
    from {{ source('steward', 'access_policy_settings') }}

),

database_roles as (

    select
        oid as role_oid,
        rolname::text as role_name,
        rolsuper as is_superuser,  -- noqa: RF04
        rolcanlogin as can_login
    from pg_catalog.pg_roles
    where rolname !~ '^pg_'

),

memberships (member_oid, role_oid) as (

    select
        member,
        roleid
    from pg_catalog.pg_auth_members
    union
    select
        pg_auth_members.member,
        memberships.role_oid
    from pg_catalog.pg_auth_members
    inner join memberships on pg_auth_members.roleid = memberships.member_oid

),

role_members as (

    select
        memberships.role_oid,
        string_agg(members.rolname::text, ', ' order by members.rolname) filter (
            where members.rolcanlogin
        ) as members
    from memberships
    inner join pg_catalog.pg_roles as members on memberships.member_oid = members.oid
    group by memberships.role_oid

),

role_groups as (

    select
        memberships.member_oid as role_oid,
        string_agg(parent_roles.rolname::text, ', ' order by parent_roles.rolname) as member_of
    from memberships
    inner join pg_catalog.pg_roles as parent_roles on memberships.role_oid = parent_roles.oid
    group by memberships.member_oid

),

mapped_relations as (

    select distinct
        personal_columns.schema_name,
        personal_columns.table_name,
        pg_class.oid as table_oid,
        pg_class.relowner as owner_oid
    from personal_columns
    inner join pg_catalog.pg_namespace on personal_columns.schema_name = pg_namespace.nspname
    inner join pg_catalog.pg_class
        on
            pg_namespace.oid = pg_class.relnamespace
            and personal_columns.table_name = pg_class.relname

),

direct_reads as (

    select
        database_roles.role_oid,
        database_roles.role_name,
        database_roles.is_superuser,
        database_roles.can_login,
        personal_columns.schema_name,
        personal_columns.table_name,
        personal_columns.column_name,
        personal_columns.data_category,
        personal_columns.classification,
        'source_table' as object_kind,
        case
            when database_roles.is_superuser then 'superuser'
            when pg_has_role(database_roles.role_oid, mapped_relations.owner_oid, 'MEMBER')
                then 'owner'
            when database_roles.role_name = any(settings.allowed_direct_roles) then 'allowed'
            else 'granted'
        end as access_kind
    from database_roles
    cross join personal_columns
    cross join settings
    inner join mapped_relations
        on
            personal_columns.schema_name = mapped_relations.schema_name
            and personal_columns.table_name = mapped_relations.table_name
    where has_column_privilege(
        database_roles.role_oid, mapped_relations.table_oid, personal_columns.column_name, 'SELECT'
    )

),

foreign_view_reads as (

    select
        database_roles.role_oid,
        database_roles.role_name,
        database_roles.is_superuser,
        database_roles.can_login,
        'governed' as schema_name,
        governed_relations.view_name as table_name,
        null::text as column_name,
        null::text as data_category,
        null::text as classification,
        'governed_view' as object_kind,
        'other_role_view' as access_kind
    from database_roles
    cross join governed_relations
    where
        not database_roles.is_superuser
        and has_table_privilege(database_roles.role_oid, governed_relations.view_oid, 'SELECT')
        and not pg_has_role(database_roles.role_oid, governed_relations.database_role, 'MEMBER')
        and not pg_has_role(database_roles.role_oid, governed_relations.owner_oid, 'MEMBER')

),

all_reads as (

    select * from direct_reads
    union all
    select * from foreign_view_reads

),

final as (

    select
        all_reads.role_name,
        all_reads.can_login,
        all_reads.is_superuser,
        all_reads.object_kind,
        all_reads.schema_name,
        all_reads.table_name,
        all_reads.column_name,
        all_reads.data_category,
        all_reads.classification,
        all_reads.access_kind,
        role_members.members,
        role_groups.member_of,
        case all_reads.access_kind
            when 'superuser' then settings.superusers_allowed
            when 'owner' then true
            when 'allowed' then true
            else false
        end as is_allowed,
        now() as reviewed_at
    from all_reads
    cross join settings
    left join role_members on all_reads.role_oid = role_members.role_oid
    left join role_groups on all_reads.role_oid = role_groups.role_oid

)

select * from final
