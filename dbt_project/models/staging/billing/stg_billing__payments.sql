with

source as (

    select * from {{ source('billing', 'payments') }}

),

renamed as (

    select
        payment_id,
        invoice_id,
        customer_id,
        amount,
        currency::text as currency_code,
        card_number,
        card_expiry,
        paid_at,
        -- 'MM/YY' -> the last day of that month, when the card stops working;
        -- anything else is not an expiry date.
        case
            when card_expiry ~ '^(0[1-9]|1[0-2])/[0-9]{2}$'
                then (
                    to_date('20' || right(card_expiry, 2) || left(card_expiry, 2), 'YYYYMM')
                    + interval '1 month' - interval '1 day'
                )::date
        end as card_expires_on

    from source

)

select * from renamed
