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


{#- The rows of `relation` to index: all of them, or with `changed_since` (a
    previous build) those written since its watermark (transaction id at or after
    it; xmins are 32-bit and wrap, so ages are compared, as the finder does) and
    those whose phone number the lookup re-parsed since its time. -#}
{% macro dsar_index_source(relation, phone_columns, lookup, changed_since) -%}
    {%- if changed_since is none -%}
        {{ return(relation | string) }}
    {%- endif -%}
    {%- set conditions = [
        watermark_written_since('c', changed_since['indexed_xmin'])
    ] -%}
    {%- if lookup -%}
        {%- for column in phone_columns -%}
            {%- do conditions.append(
                "steward.phone_raw_key(c." ~ adapter.quote(column) ~ "::text) in (select raw_value from "
                ~ lookup ~ " where parsed_at >= '" ~ changed_since['indexed_at'] ~ "'::timestamptz)"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return("(select * from " ~ relation ~ " as c where " ~ conditions | join(' or ') ~ ")") }}
{%- endmacro %}


{% macro dsar_subject_index_rows(changed_since=none) -%}
    {%- set arms = [] -%}
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
                {%- set rows = dsar_index_source(relation, dsar_index_columns(node, meta, 'phone'), lookup, changed_since) -%}
                {%- for column in dsar_index_columns(node, meta, 'customer_id') -%}
                    {%- do arms.append("select 'customer_id'::text as identifier_kind, t." ~ adapter.quote(column) ~ "::text as identifier_value, '" ~ name ~ "'::text as source_table, " ~ row_key ~ " as row_key from " ~ rows ~ " as t where t." ~ adapter.quote(column) ~ " is not null") -%}
                {%- endfor -%}
                {%- for column in dsar_index_columns(node, meta, 'email') -%}
                    {%- do arms.append("select 'email'::text, lower(t." ~ adapter.quote(column) ~ "::text), '" ~ name ~ "'::text, " ~ row_key ~ " from " ~ rows ~ " as t where t." ~ adapter.quote(column) ~ " is not null") -%}
                {%- endfor -%}
                {%- if lookup -%}
                    {%- for column in dsar_index_columns(node, meta, 'phone') -%}
                        {%- do arms.append("select 'phone'::text, l.e164, '" ~ name ~ "'::text, " ~ row_key ~ " from " ~ rows ~ " as t cross join lateral (select distinct p.e164 from " ~ lookup ~ " as p where p.raw_value = steward.phone_raw_key(t." ~ adapter.quote(column) ~ "::text) and p.e164 is not null) as l") -%}
                    {%- endfor -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if arms -%}
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

