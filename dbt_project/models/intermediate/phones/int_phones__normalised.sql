-- Every phone occurrence in the staging views, joined to its parse in
-- steward.phone_lookup (Python keeps that table: steward.phones.lookup).
-- The join contract: raw_value = steward.phone_raw_key(raw) and
-- region_hint = steward.phone_region_key(the customer's country).
-- parse_status 'not_normalised' means the lookup has no row for the value yet
-- (run `steward phones refresh` before dbt).
{{ config(materialized='view') }}

{%- set lookup = phones_python_table('phone_lookup') %}

with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

customer_phones as (

    select
        'crm.customer_phones' as source_table,
        'phone_raw' as source_column,
        phone_id::text as record_key,
        customer_id,
        'customer' as party,
        created_at as occurred_at,
        phone_raw

    from {{ ref('stg_crm__customer_phones') }}

),

calls as (

    select * from {{ ref('stg_telephony__calls') }}

),

call_numbers as (

    -- Both ends of a call; the call centre's own end is party 'call_centre'.
    select
        'telephony.calls' as source_table,
        'caller_number' as source_column,
        call_id::text as record_key,
        customer_id,
        case when call_direction = 'outbound' then 'call_centre' else 'customer' end as party,
        started_at as occurred_at,
        caller_number as phone_raw

    from calls

    union all

    select
        'telephony.calls' as source_table,
        'callee_number' as source_column,
        call_id::text as record_key,
        customer_id,
        case when call_direction = 'outbound' then 'customer' else 'call_centre' end as party,
        started_at as occurred_at,
        callee_number as phone_raw

    from calls

),

campaign_contacts as (

    select
        'marketing.campaign_contacts' as source_table,
        'phone' as source_column,
        contact_id::text as record_key,
        customer_id,
        'customer' as party,
        contacted_at as occurred_at,
        phone as phone_raw

    from {{ ref('stg_marketing__campaign_contacts') }}
    where phone is not null

),

opt_outs as (

    select
        'marketing.opt_outs' as source_table,
        'phone' as source_column,
        opt_out_id::text as record_key,
        customer_id,
        'customer' as party,
        opted_out_at as occurred_at,
        phone as phone_raw

    from {{ ref('stg_marketing__opt_outs') }}
    where phone is not null

),

consents as (

    select
        'compliance.consents' as source_table,
        'phone' as source_column,
        consent_id::text as record_key,
        customer_id,
        'customer' as party,
        granted_at as occurred_at,
        phone as phone_raw

    from {{ ref('stg_compliance__consents') }}
    where phone is not null

),

dnc_registry as (

    -- The registry is about numbers, not customers: parsed with no region hint.
    select
        'compliance.dnc_registry' as source_table,
        'phone_number' as source_column,
        phone_number || '|' || snapshot_on::text as record_key,
        null::bigint as customer_id,
        'registry' as party,
        snapshot_on::timestamptz as occurred_at,
        phone_number as phone_raw

    from {{ ref('stg_compliance__dnc_registry') }}

),

occurrences as (

    select * from customer_phones
    union all
    select * from call_numbers
    union all
    select * from campaign_contacts
    union all
    select * from opt_outs
    union all
    select * from consents
    union all
    select * from dnc_registry

),

lookup as (

    {% if lookup is not none %}
        select
            raw_value,
            region_hint,
            e164,
            parse_status,
            number_type,
            region_code,
            has_extension,
            failure_reason,
            library_version

        from {{ lookup }}
    {% else %}
        -- No lookup yet: every occurrence reads 'not_normalised'.
        select
            null::text as raw_value,
            null::text as region_hint,
            null::text as e164,
            null::text as parse_status,
            null::text as number_type,
            null::text as region_code,
            null::boolean as has_extension,
            null::text as failure_reason,
            null::text as library_version
        where false
    {% endif %}

),

final as (

    select
        occurrences.source_table,
        occurrences.source_column,
        occurrences.record_key,
        occurrences.customer_id,
        occurrences.party,
        occurrences.occurred_at,
        occurrences.phone_raw,
        customers.country_code as region_hint,
        lookup.e164,
        lookup.number_type,
        lookup.region_code,
        lookup.failure_reason,
        lookup.library_version,
        coalesce(lookup.parse_status, 'not_normalised') as parse_status,
        coalesce(lookup.parse_status = 'valid', false) as is_valid,
        coalesce(lookup.has_extension, false) as has_extension

    from occurrences
    left join customers
        on occurrences.customer_id = customers.customer_id
    left join lookup
        on
            {% if lookup is not none %}
                steward.phone_raw_key(occurrences.phone_raw) = lookup.raw_value
                and steward.phone_region_key(customers.country_code) = lookup.region_hint
            {% else %}
                occurrences.phone_raw = lookup.raw_value
            {% endif %}

)

select * from final
