with

source as (

    select * from {{ source('crm', 'customer_addresses') }}

),

renamed as (

    select
        address_id,
        customer_id,
        street,
        city,
        postal_code,
        state_code,
        country_code::text as country_code,
        created_at

    from source

)

select * from renamed
