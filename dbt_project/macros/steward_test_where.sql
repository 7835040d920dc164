{#-
    dbt's `where` of a data test, with one addition: a condition that starts
    with `__nightly_slice__` filters the test only on a nightly (incremental)
    build; `dbt build --full-refresh` tests the whole relation. For tests of
    large views and tables that a night changes only a slice of, e.g.
        config: {where: "__nightly_slice__ source_table <> 'telephony.calls'"}
    (the override dbt documents for the `where` config; default otherwise).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set marker = '__nightly_slice__' -%}
    {%- if where and where.startswith(marker) -%}
        {%- set where = '' if flags.FULL_REFRESH else where[marker | length:] -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
