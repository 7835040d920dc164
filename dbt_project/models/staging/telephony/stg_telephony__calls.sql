with

source as (

    select * from {{ source('telephony', 'calls') }}

),

renamed as (

    select
        call_id,
        customer_id,
        direction as call_direction,
        caller_number,
        callee_number,
        agent_id,
        campaign_id,
        started_at,
        ended_at,
        duration_seconds,
        disposition,
        -- The customer's end of the line: the caller of an inbound call, the
        -- number dialled on an outbound one.
        case direction
            when 'inbound' then caller_number
            when 'outbound' then callee_number
        end as customer_number

    from source

)

select * from renamed
