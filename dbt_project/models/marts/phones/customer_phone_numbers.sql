-- Every CRM phone record with its normalised number: the grain for validity
-- rates and per-customer uniqueness.
-- Statistics for the marts that read this one (autovacuum may not have run yet).
{{ config(post_hook='analyze {{ this }}') }}

with

normalised as (

    select * from {{ ref('int_phones__normalised') }}
    where source_table = 'crm.customer_phones'

),

crm_phones as (

    select * from {{ ref('stg_crm__customer_phones') }}

),

final as (

    select
        crm_phones.phone_id,
        crm_phones.customer_id,
        crm_phones.phone_kind,
        crm_phones.is_primary,
        crm_phones.is_disconnected,
        crm_phones.created_at,
        normalised.region_hint,
        normalised.parse_status,
        normalised.is_valid,
        normalised.e164,
        normalised.number_type,
        normalised.region_code,
        normalised.has_extension,
        normalised.failure_reason,
        normalised.library_version

    from crm_phones
    inner join normalised
        on crm_phones.phone_id::text = normalised.record_key

)

select * from final
