-- May this number be dialled at this moment? One row per outbound campaign call,
-- judged at the moment it was placed (check_kind 'campaign_call'), by the rules
-- every contact check uses (macro phones_contact_rules); dnc_violations reads it.
-- The CRM's numbers, judged at the reference date, are
-- int_phones__crm_contact_checks.
--
-- Incremental (delete+insert on check_key): a night judges again only the
-- campaign calls that may judge otherwise since the last build: calls written
-- since its watermark, calls of customers whose consents, opt-outs or customer
-- row were written since, calls to numbers newly opted out, listed or delisted
-- (source registry rows, imported intervals) or newly parsed by the lookup;
-- after a DNC import, every campaign call. Checks of calls no longer outbound
-- campaign calls go (pre-hook). Consents or opt-outs deleted (not revoked) are
-- not seen: `dbt build --full-refresh` rebuilds the whole table, with the same
-- rows an incremental night gives (tests/integration/test_phone_incremental.py).
-- Another value of the vars the rules read rebuilds it whole by itself.
{%- set layout = phones_contact_checks_layout() %}
{%- set previous = (
    watermark_previous_build(this, layout, 'built_xmin') if is_incremental() else none
) %}
{%- set lookup = phones_python_table('phone_lookup') %}
{%- set registry = phones_python_table('dnc_registry') %}
{%- set imports = phones_python_table('dnc_registry_imports') %}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='check_key',
    on_schema_change='fail',
    indexes=[
        {'columns': ['check_key'], 'unique': True},
        {'columns': ['call_id']},
    ],
    pre_hook=[
        "{{ watermark_mark_build('steward.phones_build_xmin') }}",
        "{{ phones_contact_checks_prune(this) }}",
    ],
    post_hook=[
        "{{ watermark_record_build(this, 'steward.phones_build_xmin', 'built_xmin', 'built_at', phones_contact_checks_layout()) }}",
        "analyze {{ this }}",
    ]
) }}

with

customers as not materialized (

    select * from {{ ref('stg_crm__customers') }}

),

lookup as not materialized (

    -- Read where it is joined (not materialized: it has millions of rows);
    -- xmin: which rows the lookup refresh wrote since the last build.
    {% if lookup is not none %}
        select
            *,
            xmin
        from {{ lookup }}
    {% else %}
        select
            null::xid as xmin,
            null::text as raw_value,
            null::text as region_hint,
            null::text as e164,
            null::text as parse_status
        where false
    {% endif %}

),

outbound_campaign_calls as (

    select
        calls.call_id,
        calls.customer_id,
        calls.started_at,
        calls.callee_number,
        customers.country_code

    from {{ ref('stg_telephony__calls') }} as calls
    left join customers
        on calls.customer_id = customers.customer_id
    where
        calls.call_direction = 'outbound'
        and calls.campaign_id is not null

),

{% if previous is not none %}
    changed_calls as (

        {{ watermark_keys_written_since(
            'call_id', [source('telephony', 'calls')], previous.built_xmin
        ) }}

    ),

    changed_customers as (

        -- Their consents, EBRs and opt-outs, or their country (the region hint).
        {{ watermark_keys_written_since('customer_id', [
            source('compliance', 'consents'),
            source('marketing', 'opt_outs'),
            source('crm', 'customers'),
        ], previous.built_xmin) }}

    ),

    changed_numbers as (

        -- An opt-out covers its number whoever holds it.
        select lookup.e164
        from {{ source('marketing', 'opt_outs') }} as opt_outs
        left join customers on opt_outs.customer_id = customers.customer_id
        inner join lookup
            on
                steward.phone_raw_key(opt_outs.phone) = lookup.raw_value
                and steward.phone_region_key(customers.country_code) = lookup.region_hint
        where {{ watermark_written_since('opt_outs', previous.built_xmin) }}

        union

        -- Registry rows the source landed (parsed with no region hint).
        select lookup.e164
        from {{ source('compliance', 'dnc_registry') }} as dnc_registry
        inner join lookup
            on
                steward.phone_raw_key(dnc_registry.phone_number) = lookup.raw_value
                and lookup.region_hint = steward.phone_region_key(null)
        where {{ watermark_written_since('dnc_registry', previous.built_xmin) }}

        {% if registry is not none %}
            union

            select '+1' || registry.phone_number as e164
            from {{ registry }} as registry
            where {{ watermark_written_since('registry', previous.built_xmin) }}
        {% endif %}

        union

        -- Values the lookup parsed (or re-parsed) since.
        select lookup.e164
        from lookup
        where {{ watermark_written_since('lookup', previous.built_xmin) }}

    ),

    registry_imported as (

        -- An import may delete intervals and moves the first full import's date:
        -- every campaign call is judged again.
        {% if imports is not none %}
            select exists (
                select from {{ imports }} as imports
                where {{ watermark_written_since('imports', previous.built_xmin) }}
            ) as is_imported
        {% else %}
            select false as is_imported
        {% endif %}

    ),

    changed_keys as (

        -- Every spelling of a changed number, and every value parsed since.
        select
            lookup.raw_value,
            lookup.region_hint
        from lookup
        where
            lookup.e164 in (select changed_numbers.e164 from changed_numbers)
            or {{ watermark_written_since('lookup', previous.built_xmin) }}

    ),
{% endif %}

selected_calls as (

    -- The calls to judge (again), chosen before the lookup is joined.
    select * from outbound_campaign_calls
    {% if previous is not none %}
        where
            outbound_campaign_calls.call_id in (select changed_calls.call_id from changed_calls)
            or outbound_campaign_calls.customer_id in (
                select changed_customers.customer_id from changed_customers
            )
            or (
                steward.phone_raw_key(outbound_campaign_calls.callee_number),
                steward.phone_region_key(outbound_campaign_calls.country_code)
            ) in (select changed_keys.raw_value, changed_keys.region_hint from changed_keys)
            or (select registry_imported.is_imported from registry_imported)
    {% endif %}

),

dialled as (

    -- The number dialled, parsed as int_phones__normalised parses it (the
    -- customer's country as region hint): one pass over the calls, no join back.
    select
        selected_calls.call_id,
        selected_calls.customer_id,
        selected_calls.started_at,
        lookup.e164,
        coalesce(lookup.parse_status, 'not_normalised') as parse_status,
        coalesce(lookup.parse_status = 'valid', false) as is_valid

    from selected_calls
    left join lookup
        on
            steward.phone_raw_key(selected_calls.callee_number) = lookup.raw_value
            and steward.phone_region_key(selected_calls.country_code) = lookup.region_hint

),

-- The checks phones_contact_rules judges.
checks as (

    select
        'campaign_call' as check_kind,
        dialled.call_id::text as check_key,
        dialled.customer_id,
        dialled.e164,
        dialled.is_valid,
        dialled.parse_status,
        false as is_disconnected,
        null::bigint[] as phone_ids,
        dialled.call_id,
        dialled.started_at as checked_at

    from dialled

),

{{ phones_contact_rules() }}

select * from final
