with

source as (

    select * from {{ source('telephony', 'agents') }}

),

renamed as (

    select
        agent_id,
        agent_name,
        extension,
        team,
        hired_at as hired_on

    from source

)

select * from renamed
