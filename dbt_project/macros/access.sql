-- noqa: disable=all
{#-
    Role-based access (steward.access): the data map's columns read from dbt's
    graph, and the post-hook that turns steward.governed_columns into the
    `governed` views. The policy tables `steward access apply` writes are the
    internal source `steward` (source('steward', 'access_policy_roles')...).
-#}

{% macro access_catalogue() -%}
    {#- steward.pii_catalogue (ref() keeps the dependency), or an empty relation
        of its shape before the catalogue was ever built (a fresh warehouse):
        every unlisted column then counts as unscanned. -#}
    {%- set catalogue = ref('pii_catalogue') -%}
    {%- if not execute or adapter.get_relation(database=catalogue.database, schema=catalogue.schema, identifier=catalogue.identifier) is not none -%}
        {{ catalogue }}
    {%- else -%}
        (select null::text as schema_name, null::text as table_name, null::text as column_name,
            null::text as category, null::text as status, null::numeric as confidence,
            null::boolean as is_current where false) as pii_catalogue_not_built_yet
    {%- endif -%}
{%- endmacro %}


{% macro access_data_map_columns() -%}
    {#- Every column the data map lists, with its data category (null when not
        personal), from the sources' config.meta.steward: no table list. -#}
    {%- set rows = [] -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- set meta = (node.config.meta or node.meta or {}).get('steward') -%}
            {%- if meta -%}
                {%- for column in node.columns.values() -%}
                    {%- set column_meta = ((column.config.meta if column.config else none) or column.meta or {}).get('steward') or {} -%}
                    {%- set category = column_meta.get('data_category') -%}
                    {%- do rows.append("('" ~ node.schema ~ "', '" ~ node.identifier ~ "', '" ~ column.name ~ "', "
                        ~ ("'" ~ category ~ "'" if category else "null") ~ ")") -%}
                {%- endfor -%}
                {%- do rows.append("('" ~ node.schema ~ "', '" ~ node.identifier ~ "', null, null)") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if rows -%}
        select schema_name::text, table_name::text, column_name::text, data_category::text
        from (values {{ rows | join(', ') }}) as mapped (schema_name, table_name, column_name, data_category)
    {%- else -%}
        select null::text as schema_name, null::text as table_name, null::text as column_name,
            null::text as data_category
        where false
    {%- endif -%}
{%- endmacro %}


{% macro governed_views() -%}
    {#- Post-hook of steward.governed_columns, inside its transaction: drop every
        view of schema `governed`, create one per (role, data-map table) showing each
        column as the role may see it, and grant it to that role only. The SQL of
        each mask is defined here, once (steward.access.policy.MASKS says which
        category takes which mask). Hashed: keyed SHA-256 with the warehouse's
        pseudonym key (steward.access_pseudonym_key, readable by the views' owner only). -#}
do $governed$
declare
    old_view record;
    new_view record;
begin
    create schema if not exists governed;
    revoke all on schema governed from public;
    for old_view in
        select c.relname from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = 'governed' and c.relkind = 'v'
    loop
        execute format('drop view governed.%I', old_view.relname);
    end loop;
    for new_view in
        select
            view_name, database_role, source_schema, source_table,
            coalesce(string_agg(
                case treatment
                    when 'full' then format('s.%I', column_name)
                    when 'hashed' then format(
                        'encode(sha256(convert_to(k.pseudonym_key || s.%I::text, ''UTF8'')), ''hex'') as %I',
                        column_name, column_name)
                    when 'masked' then case mask
                        when 'last_4_digits' then format(
                            '''***'' || right(regexp_replace(s.%I::text, ''[^0-9]'', '''', ''g''), 4) as %I',
                            column_name, column_name)
                        when 'email_domain' then format(
                            '''***@'' || split_part(s.%I::text, ''@'', 2) as %I', column_name, column_name)
                        when 'year_of_birth' then format(
                            'date_part(''year'', s.%I::date)::integer as %I', column_name, column_name)
                    end
                end,
                ', ' order by ordinal_position
            ) filter (where treatment <> 'hidden'), '') as select_list,
            count(*) filter (where treatment = 'masked' and mask is null) as unmaskable
        from {{ this }}
        group by view_name, database_role, source_schema, source_table
        order by view_name
    loop
        if new_view.unmaskable > 0 then
            raise exception 'governed view %: a masked column has no mask', new_view.view_name;
        end if;
        execute format(
            'create view governed.%I as select %s from %I.%I as s cross join steward.access_pseudonym_key as k',
            new_view.view_name, new_view.select_list, new_view.source_schema, new_view.source_table);
        execute format('grant usage on schema governed to %I', new_view.database_role);
        execute format('grant select on governed.%I to %I', new_view.view_name, new_view.database_role);
    end loop;
end
$governed$
{%- endmacro %}
