with

source as (

    select * from {{ source('compliance', 'dnc_registry') }}

),

renamed as (

    select
        phone_number,
        snapshot_date as snapshot_on,
        source_file

    from source

)

select * from renamed
