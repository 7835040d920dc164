-- The one reference date every phone mart measures against (see the macro
-- phones_reference_date_sql for var `phones_reference_date`).
{{ config(materialized='ephemeral') }}

with

final as (

    select {{ phones_reference_date_sql(ref('stg_telephony__calls')) }} as reference_date

)

select * from final
