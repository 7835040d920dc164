-- What allows or forbids calling a customer's number, as periods in time:
-- express (written) consent until revoked; an established business
-- relationship (EBR) for `phones_ebr_purchase_months` (18) after a purchase or
-- `phones_ebr_inquiry_months` (3) after an inquiry, ended early by revocation;
-- and do-not-call requests (opt-outs on the phone or 'all' channel), which
-- have no end. e164 is null when the permission covers all the customer's
-- numbers (an EBR, or a consent/opt-out whose number is missing or unparseable).
{{ config(materialized='view') }}

with

consents as (

    select * from {{ ref('stg_compliance__consents') }}

),

opt_outs as (

    select * from {{ ref('stg_marketing__opt_outs') }}

),

numbers as (

    select * from {{ ref('int_phones__normalised') }}
    where source_table in ('compliance.consents', 'marketing.opt_outs')

),

express_consents as (

    select
        'express_consent' as permission_kind,
        consents.customer_id,
        numbers.e164,
        consents.granted_at as starts_at,
        consents.revoked_at as ends_at,
        consents.revoked_at

    from consents
    left join numbers
        on
            numbers.source_table = 'compliance.consents'
            and consents.consent_id::text = numbers.record_key
    where consents.consent_type = 'express_written'

),

business_relationships as (

    select
        consents.consent_type as permission_kind,
        consents.customer_id,
        null::text as e164,
        consents.granted_at as starts_at,
        least(
            consents.granted_at + case consents.consent_type
                when 'ebr_purchase'
                    then make_interval(months => {{ var('phones_ebr_purchase_months', 18) }})
                else make_interval(months => {{ var('phones_ebr_inquiry_months', 3) }})
            end,
            consents.revoked_at
        ) as ends_at,
        consents.revoked_at

    from consents
    where consents.consent_type in ('ebr_purchase', 'ebr_inquiry')

),

do_not_call_requests as (

    select
        'opt_out' as permission_kind,
        opt_outs.customer_id,
        numbers.e164,
        opt_outs.opted_out_at as starts_at,
        null::timestamptz as ends_at,
        null::timestamptz as revoked_at

    from opt_outs
    left join numbers
        on
            numbers.source_table = 'marketing.opt_outs'
            and opt_outs.opt_out_id::text = numbers.record_key
    where opt_outs.channel in ('phone', 'all')

),

final as (

    select * from express_consents
    union all
    select * from business_relationships
    union all
    select * from do_not_call_requests

)

select * from final
