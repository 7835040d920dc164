with

source as (

    select * from {{ source('compliance', 'consents') }}

),

renamed as (

    select
        consent_id,
        customer_id,
        phone,
        consent_type,
        granted_at,
        revoked_at

    from source

)

select * from renamed
