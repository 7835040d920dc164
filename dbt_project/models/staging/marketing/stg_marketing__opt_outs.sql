with

source as (

    select * from {{ source('marketing', 'opt_outs') }}

),

renamed as (

    select
        opt_out_id,
        customer_id,
        phone,
        email,
        channel,
        opted_out_at,
        source as opt_out_source

    from source

)

select * from renamed
