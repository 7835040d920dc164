-- Call recordings made without consent where the customer's state requires
-- every party's consent (var `phones_all_party_consent_states`: CA, FL, IL,
-- MD, MA, MT, NH, PA, WA). Consent is the recording's own flag or a standing
-- 'call_recording' consent of the customer, granted before and not revoked by
-- the time of the recording. States are US states: customers known to live
-- elsewhere (Brazil also has a 'PA' and an 'MT') are not flagged.
with

recordings as (

    select * from {{ ref('stg_telephony__call_recordings') }}

),

calls as (

    select * from {{ ref('stg_telephony__calls') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

consents as (

    select * from {{ ref('stg_compliance__consents') }}
    where consent_type = 'call_recording'

),

located as (

    select
        recordings.recording_id,
        recordings.call_id,
        calls.customer_id,
        calls.call_direction,
        recordings.recorded_at,
        recordings.has_recording_consent,
        customers.country_code,
        upper(coalesce(recordings.customer_state, customers.state_code)) as customer_state

    from recordings
    left join calls on recordings.call_id = calls.call_id
    left join customers on calls.customer_id = customers.customer_id

),

standing_consents as (

    select distinct located.recording_id

    from located
    inner join consents
        on located.customer_id = consents.customer_id
    where
        consents.granted_at <= located.recorded_at
        and (consents.revoked_at is null or consents.revoked_at > located.recorded_at)

),

final as (

    select
        located.recording_id,
        located.call_id,
        located.customer_id,
        located.call_direction,
        located.recorded_at,
        located.customer_state,
        located.country_code,
        located.has_recording_consent,
        'no_all_party_consent' as violation_reason,
        standing_consents.recording_id is not null as has_standing_consent

    from located
    left join standing_consents on located.recording_id = standing_consents.recording_id
    where
        located.customer_state in ({{ phones_all_party_consent_states() }})
        and coalesce(located.country_code, 'US') = 'US'
        and not located.has_recording_consent
        and standing_consents.recording_id is null

)

select * from final
