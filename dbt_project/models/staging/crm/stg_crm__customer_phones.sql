with

source as (

    select * from {{ source('crm', 'customer_phones') }}

),

renamed as (

    select
        phone_id,
        customer_id,
        phone_raw,
        phone_kind,
        is_primary,
        is_disconnected,
        created_at

    from source

)

select * from renamed
