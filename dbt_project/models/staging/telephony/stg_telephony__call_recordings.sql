with

source as (

    select * from {{ source('telephony', 'call_recordings') }}

),

renamed as (

    select
        recording_id,
        call_id,
        storage_path,
        recording_consent as has_recording_consent,
        customer_state,
        recorded_at

    from source

)

select * from renamed
