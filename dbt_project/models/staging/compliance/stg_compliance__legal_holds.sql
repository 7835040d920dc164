with

source as (

    select * from {{ source('compliance', 'legal_holds') }}

),

renamed as (

    select
        hold_id,
        case_reference,
        scope as hold_scope,
        customer_id,
        source_table,
        record_key,
        date_from,
        date_to,
        placed_at,
        expires_at,
        released_at

    from source

)

select * from renamed
