{#-
    Helpers for the phone models (models/intermediate/phones, models/marts/phones).
-#}

{#- steward.phone_lookup, steward.dnc_registry*: tables Steward's Python writes,
    declared to dbt in the internal source `steward`
    (models/staging/steward/_steward__sources.yml); they always exist when dbt
    runs (Steward's schema is upgraded first). -#}
{% macro phones_python_table(identifier) -%}
    {{ return(source('steward', identifier)) }}
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
