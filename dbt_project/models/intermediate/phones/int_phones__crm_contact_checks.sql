-- May this CRM number be dialled today? One row per (customer, number) the CRM
-- holds (an invalid record: one row per phone record, e164 null), judged at the
-- reference date by the rules every contact check uses (macro
-- phones_contact_rules); contactable_numbers reads it.
-- A table, rebuilt whole: every check is judged again each night because the
-- reference date moves. It was the CRM half of the incremental
-- int_phones__contact_checks, where a night deleted and re-inserted every one of
-- them through the table's indexes (on `l`, 1.39M rows: 86 s a night, most of it
-- the rewrite); one `create table as` writes them at the cost of the query.
{{ config(
    materialized='table',
    indexes=[{'columns': ['check_key'], 'unique': True}],
    post_hook=['analyze {{ this }}'],
) }}

with

clock as (

    select * from {{ ref('int_phones__clock') }}

),

crm_normalised as (

    -- One branch of the view: the filter reaches its union.
    select * from {{ ref('int_phones__normalised') }}
    where source_table = 'crm.customer_phones'

),

crm_phones as (

    select * from {{ ref('stg_crm__customer_phones') }}

),

-- The checks phones_contact_rules judges.
checks as (

    select
        crm_normalised.customer_id,
        crm_normalised.e164,
        'crm_number' as check_kind,
        null::bigint as call_id,
        crm_normalised.customer_id::text || '|'
        || coalesce(crm_normalised.e164, 'phone_id:' || crm_normalised.record_key) as check_key,
        bool_or(crm_normalised.is_valid) as is_valid,
        min(crm_normalised.parse_status) as parse_status,
        bool_or(crm_phones.is_disconnected) as is_disconnected,
        array_agg(crm_phones.phone_id order by crm_phones.phone_id) as phone_ids,
        min(clock.reference_date)::timestamptz as checked_at

    from crm_normalised
    inner join crm_phones
        on crm_normalised.record_key = crm_phones.phone_id::text
    cross join clock
    group by
        crm_normalised.customer_id,
        crm_normalised.e164,
        coalesce(crm_normalised.e164, 'phone_id:' || crm_normalised.record_key)

),

{{ phones_contact_rules() }}

select * from final
