-- One row per valid E.164 number seen on the customers' side (CRM, calls,
-- campaigns, opt-outs, consents; not the DNC registry's own list): its type,
-- region, when it was first and last seen, who holds it, and its line state.
-- Statistics for the marts that read this one (autovacuum may not have run yet).
{{ config(post_hook='analyze {{ this }}') }}

with

clock as (

    select * from {{ ref('int_phones__clock') }}

),

occurrences as (

    select * from {{ ref('int_phones__normalised') }}
    where
        e164 is not null
        and party = 'customer'

),

calls as (

    select * from {{ ref('stg_telephony__calls') }}

),

crm_phones as (

    select * from {{ ref('stg_crm__customer_phones') }}

),

connected_calls as (

    select
        occurrences.e164,
        max(occurrences.occurred_at) as last_connected_call_at

    from occurrences
    inner join calls
        on occurrences.record_key = calls.call_id::text
    where
        occurrences.source_table = 'telephony.calls'
        and calls.disposition = 'connected'
    group by occurrences.e164

),

holders as (

    select
        occurrences.e164,
        count(distinct occurrences.customer_id) as customer_count,
        array_agg(distinct occurrences.customer_id order by occurrences.customer_id)
            as customer_ids,
        count(*) as crm_record_count,
        bool_or(crm_phones.is_disconnected) as is_disconnected

    from occurrences
    inner join crm_phones
        on occurrences.record_key = crm_phones.phone_id::text
    where occurrences.source_table = 'crm.customer_phones'
    group by occurrences.e164

),

numbers as (

    select
        e164,
        min(number_type) as number_type,
        min(region_code) as region_code,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as occurrence_count,
        count(distinct phone_raw) as spelling_count,
        array_agg(distinct source_table order by source_table) as seen_in_tables

    from occurrences
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
        holders.customer_ids,
        connected_calls.last_connected_call_at,
        clock.reference_date,
        coalesce(holders.customer_count, 0) as customer_count,
        coalesce(holders.crm_record_count, 0) as crm_record_count,
        coalesce(holders.is_disconnected, false) as is_disconnected

    from numbers
    cross join clock
    left join holders on numbers.e164 = holders.e164
    left join connected_calls on numbers.e164 = connected_calls.e164

)

select * from final
