with

source as (

    select * from {{ source('support', 'tickets') }}

),

renamed as (

    select
        ticket_id,
        customer_id,
        opened_at,
        closed_at,
        category as ticket_category,
        priority as ticket_priority,
        status as ticket_status,
        notes as agent_notes

    from source

)

select * from renamed
