{#-
    Helpers for the phone models (models/intermediate/phones, models/marts/phones).

    steward.phone_lookup and steward.dnc_registry* belong to Python
    (steward.phones.lookup, steward.phones.dnc), which creates them. They are not
    declared as dbt sources on purpose: every source YAML is part of the data
    map, which would then list the lookup as a phone column to normalise.
-#}

{#- The relation of a Python-owned table in schema steward, or none while it does not exist. -#}
{% macro phones_python_table(identifier) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(
        database=target.database, schema='steward', identifier=identifier
    ) -%}
    {{ return(relation) }}
{%- endmacro %}

{#-
    The clock of the phone marts, from var `phones_reference_date`:
    unset (default): the warehouse's own clock, the day of its latest call (never
    after today); 'current_date': today; or a date 'YYYY-MM-DD'.
-#}
{% macro phones_reference_date_sql(calls_relation) -%}
    {%- set configured = var('phones_reference_date', none) -%}
    {%- if configured is none or configured == '' -%}
        coalesce(
            (select least(max(started_at)::date, current_date) from {{ calls_relation }}),
            current_date
        )
    {%- elif configured == 'current_date' -%}
        current_date
    {%- else -%}
        '{{ configured }}'::date
    {%- endif -%}
{%- endmacro %}

{#- States requiring every party's consent to record a call
    (var `phones_all_party_consent_states`). -#}
{% macro phones_all_party_consent_states() -%}
    {%- set default_states = ['CA', 'FL', 'IL', 'MD', 'MA', 'MT', 'NH', 'PA', 'WA'] -%}
    {%- set states = var('phones_all_party_consent_states', default_states) -%}
    {%- for state in states -%}
        '{{ state | upper }}'{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#-
    Pre-hook: refresh the planner's statistics of a Python-owned table before the
    phone models read it. steward.phone_lookup is bulk-written by Python and joined
    on millions of rows; without statistics (autovacuum off, or not yet run) the
    planner estimates billions of rows and picks nested loops and huge sorts
    (minutes instead of seconds on the `l` warehouse). A no-op while the table is missing.
-#}
{% macro phones_analyze_python_table(identifier) -%}
    {%- set relation = phones_python_table(identifier) -%}
    {%- if relation is not none -%}
        analyze {{ relation }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
