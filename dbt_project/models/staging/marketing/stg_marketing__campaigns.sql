with

source as (

    select * from {{ source('marketing', 'campaigns') }}

),

renamed as (

    select
        campaign_id,
        campaign_name,
        channel,
        started_at as started_on,
        ended_at as ended_on

    from source

)

select * from renamed
