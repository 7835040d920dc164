with

source as (

    select * from {{ source('crm', 'customers') }}

),

renamed as (

    select
        customer_id,
        first_name,
        last_name,
        email,
        date_of_birth,
        gender,
        country_code::text as country_code,
        state_code,
        status as customer_status,
        created_at,
        updated_at,
        last_contact_at,
        closed_at,
        attr_3

    from source

)

select * from renamed
