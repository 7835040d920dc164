-- noqa: disable=all
{#-
    DSAR subject index: one `union all` arm per identifier column of every
    data-map table about customers or prospects (sources' `config.meta.steward`,
    read from dbt's graph: no table list written twice).

    Columns are those steward.dsar.finder matches: the table's `identifiers`
    (customer_id, email, phone) plus columns whose data_category is
    user.contact.email / user.contact.phone_number. E-mails are lower-cased;
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
    {#- The columns of `node` holding identifiers of `kind` (finder.columns_of). -#}
    {%- set category = {'email': 'user.contact.email', 'phone': 'user.contact.phone_number'}.get(kind) -%}
    {%- set names = [] -%}
    {%- if category -%}
        {%- for column in node.columns.values() -%}
            {%- set column_meta = ((column.config.meta if column.config else none) or column.meta or {}).get('steward') or {} -%}
            {%- if column_meta.get('data_category') == category and column.name not in names -%}
                {%- do names.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for name in dsar_as_list((meta.get('identifiers') or {}).get(kind)) -%}
        {%- if name not in names -%}
            {%- do names.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{% macro dsar_subject_index_rows() -%}
    {%- set arms = [] -%}
    {%- if execute -%}
        {%- set lookup = adapter.get_relation(database=target.database, schema='steward', identifier='phone_lookup') -%}
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
                {%- for column in dsar_index_columns(node, meta, 'customer_id') -%}
                    {%- do arms.append("select 'customer_id'::text as identifier_kind, t." ~ adapter.quote(column) ~ "::text as identifier_value, '" ~ name ~ "'::text as source_table, " ~ row_key ~ " as row_key from " ~ relation ~ " as t where t." ~ adapter.quote(column) ~ " is not null") -%}
                {%- endfor -%}
                {%- for column in dsar_index_columns(node, meta, 'email') -%}
                    {%- do arms.append("select 'email'::text, lower(t." ~ adapter.quote(column) ~ "::text), '" ~ name ~ "'::text, " ~ row_key ~ " from " ~ relation ~ " as t where t." ~ adapter.quote(column) ~ " is not null") -%}
                {%- endfor -%}
                {%- if lookup -%}
                    {%- for column in dsar_index_columns(node, meta, 'phone') -%}
                        {%- do arms.append("select 'phone'::text, l.e164, '" ~ name ~ "'::text, " ~ row_key ~ " from " ~ relation ~ " as t inner join " ~ lookup ~ " as l on l.raw_value = steward.phone_raw_key(t." ~ adapter.quote(column) ~ "::text) where l.e164 is not null") -%}
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
