{#-
    A table the catalogue's Python side writes in schema `steward`
    (steward.catalogue.store), or an empty relation of the same shape when no
    scan has run yet, so that `dbt build` of the whole project works on a
    fresh warehouse. Not a dbt source: sources are the data map. Unit tests set
    var steward_catalogue_empty_inputs to read the empty shapes only.
-#}
{% macro catalogue_input(identifier) -%}
    {%- set relation = none -%}
    {%- if execute and not var('steward_catalogue_empty_inputs', false) -%}
        {%- set relation = adapter.get_relation(
            database=target.database, schema='steward', identifier=identifier
        ) -%}
    {%- endif -%}
    {%- if relation is not none -%}
        {{ relation }}
    {%- else -%}
        ({{ catalogue_empty_input(identifier) }}) as {{ identifier }}_not_written_yet
    {%- endif -%}
{%- endmacro %}


{% macro catalogue_empty_input(identifier) -%}
    {%- if identifier == 'catalogue_scan_results' -%}
        select
            null::text as run_id,
            null::text as schema_name,
            null::text as table_name,
            null::text as column_name,
            null::text as category,
            null::timestamptz as scanned_at,
            null::text as data_type,
            null::numeric(4, 3) as confidence,
            null::boolean as is_pii,
            null::boolean as is_best_category,
            null::text as rule,
            null::text as name_pattern,
            null::numeric(4, 3) as name_strength,
            null::text as validator,
            null::integer as sample_rows,
            null::integer as non_null,
            null::integer as distinct_values,
            null::integer as matches,
            null::integer as shape_only,
            null::integer as values_with_pii_spans,
            null::jsonb as evidence,
            null::text as fingerprint,
            null::text as carried_from_run_id
        where false
    {%- elif identifier == 'catalogue_column_state' -%}
        select
            null::text as schema_name,
            null::text as table_name,
            null::text as column_name,
            null::text as data_type,
            null::text as fingerprint,
            null::text as status,
            null::text as reason,
            null::timestamptz as first_covered_at,
            null::timestamptz as last_covered_at,
            null::text as last_covered_run_id,
            null::timestamptz as last_scanned_at,
            null::text as last_scanned_run_id
        where false
    {%- elif identifier == 'data_map_columns' -%}
        select
            null::text as schema_name,
            null::text as table_name,
            null::text as column_name,
            null::text as data_category,
            null::text as subject,
            null::timestamptz as loaded_at
        where false
    {%- else -%}
        {{ exceptions.raise_compiler_error('catalogue_input: unknown table ' ~ identifier) }}
    {%- endif -%}
{%- endmacro %}
