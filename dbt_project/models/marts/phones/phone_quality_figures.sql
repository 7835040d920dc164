-- The phone marts counted, for the stewards' dashboard and its nightly
-- snapshot: one row per figure and breakdown (counts only, no number). The
-- page reads these few rows instead of scanning customer_phone_numbers (a row
-- per CRM phone record) on every load. No dbt unit test: dbt cannot mock
-- inactive_phone_numbers (an array column); tests/integration/test_dashboard_page.py
-- checks every figure against hand-made marts.
--   phone_records                 per parse status; valid_count: the valid ones
--   duplicate_groups              groups of records sharing a number
--   duplicate_records             records in those groups
--   inactive_numbers              per inactive reason
--   dnc_violations                outbound calls, per violation reason
--   recording_consent_violations  recordings without the consent a state requires
with

phone_numbers as (

    select * from {{ ref('customer_phone_numbers') }}

),

duplicate_groups as (

    select * from {{ ref('phone_duplicate_groups') }}

),

inactive_numbers as (

    select * from {{ ref('inactive_phone_numbers') }}

),

dnc_violations as (

    select * from {{ ref('dnc_violations') }}

),

consent_violations as (

    select * from {{ ref('recording_consent_violations') }}

),

records_by_status as (

    select
        'phone_records' as figure,
        coalesce(parse_status, 'unknown') as breakdown,
        count(*) as item_count,
        count(*) filter (where is_valid) as valid_count

    from phone_numbers
    group by coalesce(parse_status, 'unknown')

),

duplicates as (

    select
        'duplicate_groups' as figure,
        null as breakdown,
        count(distinct duplicate_group_id) as item_count,
        null::bigint as valid_count

    from duplicate_groups

    union all

    select
        'duplicate_records' as figure,
        null as breakdown,
        count(*) as item_count,
        null::bigint as valid_count

    from duplicate_groups

),

inactive_by_reason as (

    select
        'inactive_numbers' as figure,
        inactive_reason as breakdown,
        count(*) as item_count,
        null::bigint as valid_count

    from inactive_numbers
    group by inactive_reason

),

dnc_by_reason as (

    select
        'dnc_violations' as figure,
        violation_reason as breakdown,
        count(*) as item_count,
        null::bigint as valid_count

    from dnc_violations
    group by violation_reason

),

consent as (

    select
        'recording_consent_violations' as figure,
        null as breakdown,
        count(*) as item_count,
        null::bigint as valid_count

    from consent_violations

),

final as (

    select * from records_by_status
    union all
    select * from duplicates
    union all
    select * from inactive_by_reason
    union all
    select * from dnc_by_reason
    union all
    select * from consent

)

select * from final
