-- One row per customer with the fields fuzzy matching compares, normalised so
-- that spelling noise (case, spaces, phone formats) is not mistaken for a
-- difference. steward.dedupe streams its compared columns to splink (DuckDB);
-- the dedupe marts join it on customer_id. A table, built once a night: a view
-- would recompute the phone and address joins for each reader (minutes on `l`).
--
-- steward.phone_lookup is owned by steward.phones (Python): the internal source
-- `steward`. Before the first lookup refresh it is empty and phones stay null
-- (dbt rebuilds the table nightly).
{{ config(
    materialized='table',
    schema='intermediate',
    indexes=[{'columns': ['customer_id'], 'unique': True}],
    post_hook='analyze {{ this }}',
) }}


{%- set phone_lookup = source('steward', 'phone_lookup') %}
{#- The key functions come with the lookup table (Steward's schema creates both). -#}
{%- set phone_match = "phone_lookup.raw_value = steward.phone_raw_key(phones.phone_raw)"
    ~ " and phone_lookup.region_hint = steward.phone_region_key(customers.country_code)" %}

with

customers as (

    select * from {{ ref('stg_crm__customers') }}

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
        e164 as phone_e164

    from phone_numbers
    order by customer_id asc, is_primary desc, created_at asc, phone_id asc

),

-- The most recent address is the one a duplicate record would be keyed with.
current_address as (

    select distinct on (customer_id)
        customer_id,
        street,
        city,
        postal_code

    from addresses
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
-- table must give the same sample night after night (incremental rescans skip it).
select * from final
order by customer_id
