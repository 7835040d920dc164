-- May we dial it? One row per (customer, number) the CRM holds (invalid
-- records: one row per phone record, e164 null), checked at the reference
-- date. not_contactable_reason is the first of `reasons`, in this order:
-- invalid_number, disconnected, internal_opt_out, consent_revoked,
-- national_dnc, ebr_expired, no_consent (the last two explain why a registered
-- number has no exemption). See the macro phones_contact_rules for the rules.
with

checks as (

    select * from {{ ref('int_phones__crm_contact_checks') }}

),

final as (

    select
        check_key as contactable_key,
        customer_id,
        e164,
        phone_ids,
        parse_status,
        is_contactable,
        not_contactable_reason,
        reasons,
        contact_basis,
        is_valid,
        is_disconnected,
        is_on_national_dnc,
        dnc_listed_on,
        has_internal_opt_out,
        opted_out_at,
        has_express_consent,
        is_consent_revoked,
        consent_revoked_at,
        has_live_ebr,
        ebr_expires_at,
        checked_at::date as reference_date

    from checks

)

select * from final
