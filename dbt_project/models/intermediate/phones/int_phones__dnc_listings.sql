-- When each number was on the national Do-Not-Call registry: [listed_on, delisted_on).
-- Two sources: imports by `steward phones import-dnc` (steward.dnc_registry,
-- intervals) and the rows the source system landed in compliance.dnc_registry
-- (a number on a download of snapshot_on was listed from then on). The first
-- full import supersedes the source rows: they count only before its date.
{{ config(materialized='view') }}

{%- set registry = phones_python_table('dnc_registry') %}
{%- set imports = phones_python_table('dnc_registry_imports') %}

with

source_rows as (

    select * from {{ ref('int_phones__normalised') }}
    where source_table = 'compliance.dnc_registry' and e164 is not null

),

first_full_import as (

    {% if imports is not none %}
        select min(snapshot_date) as snapshot_on
        from {{ imports }}
        where import_kind = 'full'
    {% else %}
        select null::date as snapshot_on
    {% endif %}

),

source_listings as (

    select
        source_rows.e164,
        min(source_rows.occurred_at)::date as listed_on,
        min(first_full_import.snapshot_on) as delisted_on,
        'compliance.dnc_registry' as listing_source

    from source_rows
    cross join first_full_import
    group by source_rows.e164

),

imported_listings as (

    {% if registry is not none %}
        select
            '+1' || phone_number as e164,
            listed_on,
            delisted_on,
            'steward.dnc_registry' as listing_source

        from {{ registry }}
    {% else %}
        select
            null::text as e164,
            null::date as listed_on,
            null::date as delisted_on,
            'steward.dnc_registry' as listing_source
        where false
    {% endif %}

),

final as (

    select * from source_listings
    where delisted_on is null or listed_on < delisted_on

    union all

    select * from imported_listings

)

select * from final
