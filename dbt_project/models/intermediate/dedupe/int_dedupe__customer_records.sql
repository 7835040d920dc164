-- One row per customer with the fields fuzzy matching compares, normalised so
-- that spelling noise (case, spaces, phone formats) is not mistaken for a
-- difference. steward.dedupe streams its compared columns to splink (DuckDB);
-- the dedupe marts join it on customer_id. A table: a view would recompute the
-- phone and address joins for each reader (minutes on `l`).
--
-- Incremental (delete+insert on customer_id): a night rebuilds the records of
-- customers whose row, phones or addresses were written since its watermark, or
-- one of whose numbers the lookup parsed since, and of customers without a record
-- (the pre-hook removes those of deleted customers, and those whose chosen phone
-- or address row is gone). `dbt build --full-refresh` gives the same rows
-- (tests/integration/test_phone_incremental.py).
--
-- steward.phone_lookup is owned by steward.phones (Python): the internal source
-- `steward`. Before the first lookup refresh it is empty and phones stay null.
{%- set previous = (
    watermark_previous_build(this, dedupe_records_layout(), 'built_xmin')
    if is_incremental() else none
) %}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='append_new_columns',
    schema='intermediate',
    indexes=[{'columns': ['customer_id'], 'unique': True}],
    pre_hook=[
        "{{ watermark_mark_build('steward.dedupe_records_xmin') }}",
        "{{ dedupe_records_prune(this) }}",
    ],
    post_hook=[
        "{{ watermark_record_build(this, 'steward.dedupe_records_xmin', 'built_xmin', 'built_at', dedupe_records_layout()) }}",
        "analyze {{ this }}",
    ],
) }}


{%- set phone_lookup = source('steward', 'phone_lookup') %}
{#- The key functions come with the lookup table (Steward's schema creates both). -#}
{%- set phone_match = "phone_lookup.raw_value = steward.phone_raw_key(phones.phone_raw)"
    ~ " and phone_lookup.region_hint = steward.phone_region_key(customers.country_code)" %}

with

{% if previous is not none %}
    changed_customers as materialized (

        {{ watermark_keys_written_since('customer_id', [
            source('crm', 'customers'),
            source('crm', 'customer_phones'),
            source('crm', 'customer_addresses'),
        ], previous.built_xmin) }}

        union

        -- Numbers the lookup parsed (or re-parsed) since, in any region.
        select phones.customer_id
        from {{ source('crm', 'customer_phones') }} as phones
        where steward.phone_raw_key(phones.phone_raw) in (
            select phone_lookup.raw_value
            from {{ phone_lookup }} as phone_lookup
            where {{ watermark_written_since('phone_lookup', previous.built_xmin) }}
        )

        union

        -- Without a record: new, or removed by the pre-hook.
        select customers.customer_id
        from {{ source('crm', 'customers') }} as customers
        where not exists (
            select from {{ this }} as records
            where records.customer_id = customers.customer_id
        )

    ),
{% endif %}

customers as (

    select * from {{ ref('stg_crm__customers') }}
    {% if previous is not none %}
        where customer_id in (
            select changed_customers.customer_id from changed_customers
        )
    {% endif %}

),

phones as (

    select * from {{ ref('stg_crm__customer_phones') }}

),

addresses as (

    select * from {{ ref('stg_crm__customer_addresses') }}

),

phone_numbers as (

    select
        phones.customer_id,
        phone_lookup.e164,
        phones.is_primary,
        phones.created_at,
        phones.phone_id

    from phones
    inner join customers
        on phones.customer_id = customers.customer_id
    inner join {{ phone_lookup }} as phone_lookup
        on {{ phone_match }}
    where phone_lookup.e164 is not null

),

-- The number a customer is best reached on: the primary one if valid, else the oldest valid.
best_phone as (

    select distinct on (customer_id)
        customer_id,
        e164 as phone_e164,
        phone_id as best_phone_id

    from phone_numbers
    order by customer_id asc, is_primary desc, created_at asc, phone_id asc

),

-- The most recent address is the one a duplicate record would be keyed with.
current_address as (

    select distinct on (customer_id)
        customer_id,
        address_id as current_address_id,
        street,
        city,
        postal_code

    from addresses
    where customer_id in (select customers.customer_id from customers)
    order by customer_id asc, created_at desc, address_id desc

),

final as (

    select
        customers.customer_id,
        customers.date_of_birth,
        best_phone.phone_e164,
        customers.country_code,
        customers.customer_status,
        customers.created_at,
        -- The rows chosen: the pre-hook notices when one is deleted or moves.
        best_phone.best_phone_id,
        current_address.current_address_id,
        nullif(lower(regexp_replace(btrim(customers.first_name), '\s+', ' ', 'g')), '')
            as first_name,
        nullif(lower(regexp_replace(btrim(customers.last_name), '\s+', ' ', 'g')), '')
            as last_name,
        nullif(lower(btrim(customers.email)), '') as email,
        nullif(upper(regexp_replace(current_address.postal_code, '\s', '', 'g')), '')
            as postal_code,
        nullif(lower(regexp_replace(btrim(current_address.street), '\s+', ' ', 'g')), '')
            as street,
        nullif(lower(btrim(current_address.city)), '') as city,
        greatest(customers.last_contact_at, customers.updated_at) as last_activity_at

    from customers
    left join best_phone
        on customers.customer_id = best_phone.customer_id
    left join current_address
        on customers.customer_id = current_address.customer_id

)

-- A stable physical order: the catalogue samples pages of this table, and an unchanged
-- table must give the same sample night after night (incremental rescans skip it);
-- a night appends its rebuilt records in this order.
select * from final
order by customer_id
