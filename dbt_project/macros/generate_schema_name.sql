{#-
    Use a model's custom schema name as-is (`staging`, `steward`) instead of
    dbt's default `<target schema>_<custom schema>`: the schemas are part of
    Steward's contract with the jobs that read them.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
