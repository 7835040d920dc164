-- Outbound campaign calls placed to a number that was not contactable at the
-- moment of the call: on the national registry without an exemption, after a
-- do-not-call request (internal opt-out), or after the consent was revoked
-- (and, with var `phones_require_consent`, without consent or a live EBR).
-- Unparseable dialled numbers cannot be checked and are not listed here.
with

checks as (

    -- Campaign calls only: the CRM's numbers are int_phones__crm_contact_checks.
    select * from {{ ref('int_phones__contact_checks') }}

),

calls as (

    select * from {{ ref('stg_telephony__calls') }}

),

violations as (

    select
        checks.*,
        array_remove(array_remove(checks.reasons, 'invalid_number'), 'disconnected')
            as violation_reasons

    from checks

),

final as (

    select
        calls.call_id,
        calls.campaign_id,
        calls.customer_id,
        calls.agent_id,
        calls.started_at,
        calls.disposition,
        violations.e164,
        violations.violation_reasons,
        violations.is_on_national_dnc,
        violations.dnc_listed_on,
        violations.opted_out_at,
        violations.consent_revoked_at,
        violations.ebr_expires_at,
        violations.contact_basis,
        violations.violation_reasons[1] as violation_reason

    from violations
    inner join calls
        on violations.call_id = calls.call_id
    where cardinality(violations.violation_reasons) > 0

)

select * from final
