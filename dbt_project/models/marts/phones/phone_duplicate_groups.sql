-- Exact phone duplicates in the CRM, one row per member record, for stewards
-- to review (nothing is merged here):
--   'shared_number':   the same E.164 number held by several customers;
--   'same_customer':   one customer holding the same number in several records
--                      (usually typed in different formats).
-- Evidence: each member's spelling, kind, flags and dates, and the group's size.
with

phones as (

    select * from {{ ref('customer_phone_numbers') }}
    where e164 is not null

),

crm_phones as (

    select * from {{ ref('stg_crm__customer_phones') }}

),

shared_numbers as (

    select
        'shared_number' as duplicate_kind,
        e164,
        null::bigint as group_customer_id

    from phones
    group by e164
    having count(distinct customer_id) > 1

),

same_customer as (

    select
        'same_customer' as duplicate_kind,
        e164,
        customer_id as group_customer_id

    from phones
    group by e164, customer_id
    having count(*) > 1

),

groups as (

    select * from shared_numbers
    union all
    select * from same_customer

),

members as (

    select
        groups.duplicate_kind,
        groups.e164,
        phones.customer_id,
        phones.phone_id,
        crm_phones.phone_raw,
        phones.phone_kind,
        phones.is_primary,
        phones.is_disconnected,
        phones.created_at,
        phones.number_type,
        md5(
            groups.duplicate_kind || '|' || groups.e164 || '|'
            || coalesce(groups.group_customer_id::text, '')
        ) as duplicate_group_id

    from groups
    inner join phones
        on
            groups.e164 = phones.e164
            and (groups.group_customer_id is null or groups.group_customer_id = phones.customer_id)
    inner join crm_phones
        on phones.phone_id = crm_phones.phone_id

),

group_sizes as (

    select
        duplicate_group_id,
        count(*) as group_record_count,
        count(distinct customer_id) as group_customer_count,
        count(distinct phone_raw) as group_spelling_count

    from members
    group by duplicate_group_id

),

final as (

    select
        members.*,
        group_sizes.group_record_count,
        group_sizes.group_customer_count,
        group_sizes.group_spelling_count

    from members
    inner join group_sizes
        on members.duplicate_group_id = group_sizes.duplicate_group_id

)

select * from final
