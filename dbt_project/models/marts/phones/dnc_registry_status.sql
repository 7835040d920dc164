-- One row: how fresh the national Do-Not-Call registry is. Calls may rely on a
-- registry snapshot at most `phones_dnc_max_age_days` (31) days old (TSR safe
-- harbour); the singular test phones_dnc_registry_not_stale fails otherwise.
{%- set imports = phones_python_table('dnc_registry_imports') %}

with

clock as (

    select * from {{ ref('int_phones__clock') }}

),

source_snapshots as (

    select
        'compliance.dnc_registry' as snapshot_source,
        max(snapshot_on) as snapshot_on

    from {{ ref('stg_compliance__dnc_registry') }}

),

imported_snapshots as (

    {% if imports is not none %}
        select
            'steward.dnc_registry' as snapshot_source,
            max(snapshot_date) as snapshot_on,
            max(imported_at) as last_imported_at,
            count(*) as import_count

        from {{ imports }}
    {% else %}
        select
            null::date as snapshot_on,
            'steward.dnc_registry' as snapshot_source,
            null::timestamptz as last_imported_at,
            0::bigint as import_count
    {% endif %}

),

listed_now as (

    select count(distinct listings.e164) as listed_numbers

    from {{ ref('int_phones__dnc_listings') }} as listings
    cross join clock
    where
        listings.listed_on <= clock.reference_date
        and (listings.delisted_on is null or listings.delisted_on > clock.reference_date)

),

final as (

    select
        clock.reference_date,
        greatest(source_snapshots.snapshot_on, imported_snapshots.snapshot_on)
            as latest_snapshot_on,
        case
            when
                imported_snapshots.snapshot_on >= source_snapshots.snapshot_on
                or source_snapshots.snapshot_on is null
                then imported_snapshots.snapshot_source
            else source_snapshots.snapshot_source
        end as snapshot_source,
        clock.reference_date
        - greatest(source_snapshots.snapshot_on, imported_snapshots.snapshot_on)
            as snapshot_age_days,
        {{ var('phones_dnc_max_age_days', 31) }} as max_age_days,
        coalesce(
            clock.reference_date
            - greatest(source_snapshots.snapshot_on, imported_snapshots.snapshot_on)
            > {{ var('phones_dnc_max_age_days', 31) }},
            true
        ) as is_stale,
        listed_now.listed_numbers,
        imported_snapshots.import_count,
        imported_snapshots.last_imported_at

    from clock
    cross join source_snapshots
    cross join imported_snapshots
    cross join listed_now

)

select * from final
