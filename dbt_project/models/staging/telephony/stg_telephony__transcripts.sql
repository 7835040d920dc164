with

source as (

    select * from {{ source('telephony', 'transcripts') }}

),

renamed as (

    select
        transcript_id,
        call_id,
        language as language_code,
        body as transcript_text,
        created_at

    from source

)

select * from renamed
