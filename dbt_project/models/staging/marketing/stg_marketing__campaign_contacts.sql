with

source as (

    select * from {{ source('marketing', 'campaign_contacts') }}

),

renamed as (

    select
        contact_id,
        campaign_id,
        customer_id,
        phone,
        email,
        contacted_at,
        outcome

    from source

)

select * from renamed
