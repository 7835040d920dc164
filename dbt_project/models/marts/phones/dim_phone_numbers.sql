-- One row per valid E.164 number seen on the customers' side (CRM, calls,
-- campaigns, opt-outs, consents; not the DNC registry's own list): its type,
-- region, when it was first and last seen, who holds it, and its line state.
-- Built for warehouse scale: one pass over the calls (the customer's end of
-- each call, its time and whether it connected; no second join to the calls
-- for the disposition), customers and the lookup joined once, and every source
-- reduced to its distinct (spelling, region hint) before the keys are computed
-- and the lookup is joined: a few million spellings instead of a row per call
-- end, so the sort by number stays in memory. The occurrences are those of
-- int_phones__normalised with party 'customer' (the same figures, row for row).
-- Statistics for the marts that read this one (autovacuum may not have run yet).
{{ config(post_hook='analyze {{ this }}') }}

{%- set lookup = phones_python_table('phone_lookup') %}

with

clock as (

    select * from {{ ref('int_phones__clock') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

calls as (

    select * from {{ ref('stg_telephony__calls') }}

),

occurrences as (

    -- The customer's end of every call (int_phones__normalised: party 'customer').
    select
        'telephony.calls' as source_table,
        customer_id,
        started_at as occurred_at,
        case when call_direction = 'outbound' then callee_number else caller_number end
            as phone_raw,
        disposition = 'connected' as is_connected_call,
        null::boolean as is_disconnected

    from calls

    union all

    select
        'crm.customer_phones' as source_table,
        customer_id,
        created_at as occurred_at,
        phone_raw,
        false as is_connected_call,
        is_disconnected

    from {{ ref('stg_crm__customer_phones') }}

    union all

    select
        'marketing.campaign_contacts' as source_table,
        customer_id,
        contacted_at as occurred_at,
        phone as phone_raw,
        false as is_connected_call,
        null::boolean as is_disconnected

    from {{ ref('stg_marketing__campaign_contacts') }}
    where phone is not null

    union all

    select
        'marketing.opt_outs' as source_table,
        customer_id,
        opted_out_at as occurred_at,
        phone as phone_raw,
        false as is_connected_call,
        null::boolean as is_disconnected

    from {{ ref('stg_marketing__opt_outs') }}
    where phone is not null

    union all

    select
        'compliance.consents' as source_table,
        customer_id,
        granted_at as occurred_at,
        phone as phone_raw,
        false as is_connected_call,
        null::boolean as is_disconnected

    from {{ ref('stg_compliance__consents') }}
    where phone is not null

),

spellings as (

    -- Reduced to (source, spelling, region hint; the holder for CRM records)
    -- before the keys are computed and the lookup is joined.
    select
        occurrences.source_table,
        occurrences.phone_raw,
        customers.country_code,
        case
            when occurrences.source_table = 'crm.customer_phones' then occurrences.customer_id
        end as holder_customer_id,
        count(*) as occurrence_count,
        min(occurrences.occurred_at) as first_seen_at,
        max(occurrences.occurred_at) as last_seen_at,
        max(occurrences.occurred_at) filter (where occurrences.is_connected_call)
            as last_connected_call_at,
        bool_or(occurrences.is_disconnected) as is_disconnected

    from occurrences
    left join customers on occurrences.customer_id = customers.customer_id
    group by
        occurrences.source_table,
        occurrences.phone_raw,
        customers.country_code,
        case
            when occurrences.source_table = 'crm.customer_phones' then occurrences.customer_id
        end

),

lookup as (

    {% if lookup is not none %}
        select * from {{ lookup }}
        where e164 is not null
    {% else %}
        -- No lookup yet: no number is known.
        select
            null::text as raw_value,
            null::text as region_hint,
            null::text as e164,
            null::text as number_type,
            null::text as region_code
        where false
    {% endif %}

),

keyed as (

    select
        spellings.*,
        lookup.e164,
        lookup.number_type,
        lookup.region_code,
        spellings.source_table = 'crm.customer_phones' as is_crm_record

    from spellings
    inner join lookup
        on
            steward.phone_raw_key(spellings.phone_raw) = lookup.raw_value
            and steward.phone_region_key(spellings.country_code) = lookup.region_hint

),

numbers as (

    select
        e164,
        min(number_type) as number_type,
        min(region_code) as region_code,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        sum(occurrence_count)::bigint as occurrence_count,
        count(distinct phone_raw) as spelling_count,
        array_agg(distinct source_table order by source_table) as seen_in_tables,
        max(last_connected_call_at) as last_connected_call_at,
        count(distinct holder_customer_id) as customer_count,
        array_agg(
            distinct holder_customer_id order by holder_customer_id
        ) filter (where is_crm_record) as customer_ids,
        coalesce(sum(occurrence_count) filter (where is_crm_record), 0)::bigint
            as crm_record_count,
        coalesce(bool_or(is_disconnected), false) as is_disconnected

    from keyed
    group by e164

),

final as (

    select
        numbers.e164,
        true as is_valid,
        numbers.number_type,
        numbers.region_code,
        numbers.first_seen_at,
        numbers.last_seen_at,
        numbers.occurrence_count,
        numbers.spelling_count,
        numbers.seen_in_tables,
        numbers.customer_ids,
        numbers.last_connected_call_at,
        clock.reference_date,
        numbers.customer_count,
        numbers.crm_record_count,
        numbers.is_disconnected

    from numbers
    cross join clock

)

select * from final
