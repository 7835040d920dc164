with

source as (

    select * from {{ source('billing', 'invoices') }}

),

renamed as (

    select
        invoice_id,
        customer_id,
        issued_at as issued_on,
        amount,
        currency::text as currency_code,
        billing_address,
        status as invoice_status

    from source

)

select * from renamed
