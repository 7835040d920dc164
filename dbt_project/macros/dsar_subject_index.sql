-- noqa: disable=all
{#-
    DSAR subject index: one `union all` arm per identifier column of every
    data-map table about customers or prospects (sources' `config.meta.steward`,
    read from dbt's graph: no table list written twice).

    Columns are those steward.dsar.finder matches by: the table's
    `identifiers` (customer_id, email, phone) in the data map, the one
    declaration both read (no column rule written twice). E-mails are lower-cased;
    phones are mapped to E.164 through steward.phone_lookup on the raw key, for
    every region hint (the finder matches a raw spelling the same way). While the
    lookup does not exist (a fresh warehouse) phone arms are left out.
-#}

{% macro dsar_as_list(value) -%}
    {%- if value is none -%}
        {{ return([]) }}
    {%- elif value is string -%}
        {{ return([value]) }}
    {%- else -%}
        {{ return(value | list) }}
    {%- endif -%}
{%- endmacro %}


{% macro dsar_index_columns(node, meta, kind) -%}
    {#- The columns of `node` a subject is matched by for `kind`: exactly the
        data map's `identifiers.<kind>` (steward.dsar.finder.columns_of reads the
        same entry, and refuses a map whose e-mail/phone columns are not all
        listed there), so the index and every search use one definition. -#}
    {{ return(dsar_as_list((meta.get('identifiers') or {}).get(kind))) }}
{%- endmacro %}


{#- An incremental build's CTE of one table's rows to re-index (a full build reads
    the table itself), read once for all of the table's arms: rows written since the watermark (transaction id at or
    after it; xmins are 32-bit and wrap, so ages are compared, as the finder does)
    and rows whose phone number the lookup parsed since the build's time (CTE
    `reparsed`; `exists` is evaluated once, so a night with no new parse computes
    no key). -#}
{% macro dsar_index_changed_rows(relation, phone_columns, lookup, changed_since) -%}
    {%- set conditions = [
        watermark_written_since('c', changed_since['indexed_xmin'])
    ] -%}
    {%- if lookup and phone_columns -%}
        {%- set keys = [] -%}
        {%- for column in phone_columns -%}
            {%- do keys.append(
                "steward.phone_raw_key(c." ~ adapter.quote(column) ~ "::text) in (select reparsed.raw_value from reparsed)"
            ) -%}
        {%- endfor -%}
        {%- do conditions.append("(exists (select from reparsed) and (" ~ keys | join(' or ') ~ "))") -%}
    {%- endif -%}
    {{ return("select * from " ~ relation ~ " as c where " ~ conditions | join(' or ')) }}
{%- endmacro %}


{% macro dsar_subject_index_rows(changed_since=none) -%}
    {%- set arms = [] -%}
    {%- set changed_ctes = [] -%}
    {%- if execute -%}
        {%- set lookup = source('steward', 'phone_lookup') -%}
        {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- set meta = (node.config.meta or node.meta or {}).get('steward') or {} -%}
            {%- if meta.get('subject') in ('customer', 'prospect') and meta.get('primary_key') -%}
                {%- set name = node.schema ~ '.' ~ node.identifier -%}
                {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.identifier) -%}
                {%- set key_parts = [] -%}
                {%- for key in meta['primary_key'] -%}
                    {%- do key_parts.append("'" ~ key ~ "', t." ~ adapter.quote(key)) -%}
                {%- endfor -%}
                {%- set row_key = 'jsonb_build_object(' ~ key_parts | join(', ') ~ ')' -%}
                {%- set phone_columns = dsar_index_columns(node, meta, 'phone') -%}
                {%- set rows = relation | string -%}
                {%- if changed_since is not none -%}
                    {%- set rows = 'changed_' ~ (changed_ctes | length) -%}
                    {%- do changed_ctes.append(rows ~ " as materialized (" ~ dsar_index_changed_rows(relation, phone_columns, lookup, changed_since) ~ ")") -%}
                {%- endif -%}
                {%- for column in dsar_index_columns(node, meta, 'customer_id') -%}
                    {%- do arms.append("select 'customer_id'::text as identifier_kind, t." ~ adapter.quote(column) ~ "::text as identifier_value, '" ~ name ~ "'::text as source_table, " ~ row_key ~ " as row_key from " ~ rows ~ " as t where t." ~ adapter.quote(column) ~ " is not null") -%}
                {%- endfor -%}
                {%- for column in dsar_index_columns(node, meta, 'email') -%}
                    {%- do arms.append("select 'email'::text, lower(t." ~ adapter.quote(column) ~ "::text), '" ~ name ~ "'::text, " ~ row_key ~ " from " ~ rows ~ " as t where t." ~ adapter.quote(column) ~ " is not null") -%}
                {%- endfor -%}
                {%- if lookup -%}
                    {%- for column in phone_columns -%}
                        {%- do arms.append("select 'phone'::text, l.e164, '" ~ name ~ "'::text, " ~ row_key ~ " from " ~ rows ~ " as t cross join lateral (select distinct p.e164 from " ~ lookup ~ " as p where p.raw_value = steward.phone_raw_key(t." ~ adapter.quote(column) ~ "::text) and p.e164 is not null) as l") -%}
                    {%- endfor -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if arms -%}
        {%- if changed_ctes -%}
    with
    reparsed as materialized (
        select raw_value from {{ source('steward', 'phone_lookup') }}
        where parsed_at >= '{{ changed_since['indexed_at'] }}'::timestamptz
    ),
    {{ changed_ctes | join(',\n    ') }}
        {% endif -%}
        {{ arms | join('\n    union all\n    ') }}
    {%- else -%}
    select
        null::text as identifier_kind,
        null::text as identifier_value,
        null::text as source_table,
        null::jsonb as row_key
    where false
    {%- endif -%}
{%- endmacro %}


{#- The index's layout: a digest of its full, unfiltered SQL (tables, identifier
    columns, phone arms). A build of another layout cannot be continued. -#}
{% macro dsar_subject_index_layout() -%}
    {{ return(local_md5(dsar_subject_index_rows(changed_since=none) | string)) }}
{%- endmacro %}



{#- An incremental build over an index of another layout (or of no recorded
    build) re-indexes every row: into an empty table, without its indexes,
    which the post-hook builds again once the rows are in (inserting tens of
    millions of entries into indexed tables costs several times a fresh build).
    Entries of tables or columns no longer mapped go with the truncation. -#}
{% macro dsar_subject_index_relaid(relation) -%}
    {{ return(is_incremental()
        and watermark_previous_build(relation, dsar_subject_index_layout(), 'indexed_xmin') is none) }}
{%- endmacro %}

{#- Pre-hook: empty the index and drop its indexes when it is re-indexed whole. -#}
{% macro dsar_subject_index_truncate_if_relaid(relation) -%}
    {%- if dsar_subject_index_relaid(relation) -%}
        truncate {{ relation }};
        do $steward$ declare index_name regclass; begin
            for index_name in
                select indexrelid::regclass from pg_index
                where indrelid = '{{ relation }}'::regclass
                    and not exists (select from pg_constraint where conindid = indexrelid)
            loop
                execute format('drop index %s', index_name);
            end loop;
        end $steward$
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Post-hook, before the build is recorded: the model's indexes again after a
    whole re-index (dbt creates them only when it creates the table). -#}
{% macro dsar_subject_index_reindex_if_relaid(relation) -%}
    {%- if dsar_subject_index_relaid(relation) -%}
        {%- for index in config.get('indexes') -%}
            {{ get_create_index_sql(relation, index) }};
        {% endfor -%}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}



{#- Incremental strategy `subject_index_entries` (dsar_subject_index): re-indexed
    rows keep the entries they still hold; only entries they no longer hold are
    deleted and only new ones inserted. Most re-indexed rows were written for
    another reason (a status, a surname) and hold the same identifiers, so a
    night writes a fraction of what delete+insert on the row would (each entry
    is two index insertions into a table of tens of millions of rows). The
    re-indexed rows' current entries are read once, one row index probe per row
    (the lateral's `offset 0` keeps it per row: a hash join would read the whole
    index), then compared in memory with the new ones. Equal entries are
    harmless: the finder unions them away. -#}
{% macro get_incremental_subject_index_entries_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set fresh = arg_dict['temp_relation'] -%}
    {%- set held = fresh.identifier ~ '__held' -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    analyze {{ fresh }};

    create temporary table {{ held }} on commit drop as
    select
        entry.entry_ctid,
        entry.identifier_kind,
        entry.identifier_value,
        entry.source_table,
        entry.row_key
    from (select distinct source_table, row_key from {{ fresh }}) as reindexed
    cross join lateral (
        select
            indexed.ctid as entry_ctid,
            indexed.identifier_kind,
            indexed.identifier_value,
            indexed.source_table,
            indexed.row_key
        from {{ target }} as indexed
        where
            indexed.source_table = reindexed.source_table
            and indexed.row_key = reindexed.row_key
        offset 0
    ) as entry;

    analyze {{ held }};

    delete from {{ target }} as indexed
    using {{ held }} as held_entry
    where
        indexed.ctid = held_entry.entry_ctid
        and not exists (
            select from {{ fresh }} as fresh_entry
            where {{ subject_index_same_entry('fresh_entry', 'held_entry') }}
        );

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ fresh }} as fresh_entry
    where not exists (
        select from {{ held }} as held_entry
        where {{ subject_index_same_entry('held_entry', 'fresh_entry') }}
    )
{%- endmacro %}


{#- Two entries alike: the same identifier of the same row. -#}
{% macro subject_index_same_entry(left, right) -%}
    {%- for column in ['source_table', 'row_key', 'identifier_kind', 'identifier_value'] -%}
        {{ ' and ' if not loop.first }}{{ left }}.{{ column }} = {{ right }}.{{ column }}
    {%- endfor -%}
{%- endmacro %}
