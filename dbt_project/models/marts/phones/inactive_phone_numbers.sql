-- CRM phone records that are not live numbers, one row per record, with every
-- reason that applies (the first one, by precedence, in inactive_reason):
--   'failed_validation': the value is not a valid number (parse_status says why);
--   'disconnected':      the CRM marks the line disconnected;
--   'no_connected_call': no connected call with the number in the last
--                        `phones_inactive_after_days` (365) days before the reference date.
-- Feeds retention and the dashboard.
with

clock as (

    select * from {{ ref('int_phones__clock') }}

),

phones as (

    select * from {{ ref('customer_phone_numbers') }}

),

numbers as (

    select * from {{ ref('dim_phone_numbers') }}

),

flagged as (

    select
        phones.phone_id,
        phones.customer_id,
        phones.e164,
        phones.parse_status,
        phones.failure_reason,
        phones.is_disconnected,
        numbers.last_connected_call_at,
        clock.reference_date,
        {{ var('phones_inactive_after_days', 365) }} as inactive_after_days,
        clock.reference_date - numbers.last_connected_call_at::date
            as days_since_connected_call,
        array_remove(
            array[
                case when not phones.is_valid then 'failed_validation' end,
                case when phones.is_disconnected then 'disconnected' end,
                case
                    when
                        phones.is_valid
                        and (
                            numbers.last_connected_call_at is null
                            or numbers.last_connected_call_at
                            < clock.reference_date
                            - make_interval(days => {{ var('phones_inactive_after_days', 365) }})
                        )
                        then 'no_connected_call'
                end
            ],
            null
        ) as inactive_reasons

    from phones
    cross join clock
    left join numbers on phones.e164 = numbers.e164

),

final as (

    select
        *,
        inactive_reasons[1] as inactive_reason

    from flagged
    where cardinality(inactive_reasons) > 0

)

select * from final
