{#-
    Pre-hook of every model dbt builds as a table: this transaction's work_mem,
    var `steward_work_mem` (default 256MB). The marts sort and hash millions of rows
    (group by e164, distinct identifiers, window functions); at PostgreSQL's
    default 4MB they spill to disk in many batches. `set local` ends with the
    model's transaction: the server's setting, and every other session, are left
    alone. Views build nothing, so they get no-op.
-#}
{% macro steward_work_mem() -%}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
        set local work_mem = '{{ var("steward_work_mem", "256MB") }}'
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
