-- Legal holds in force at the run's as-of instant: placed, not released, not expired.
{{ config(materialized='view') }}

with

holds as (

    select * from {{ ref('stg_compliance__legal_holds') }}

),

final as (

    select
        hold_id,
        case_reference,
        hold_scope,
        customer_id,
        source_table,
        record_key,
        date_from,
        date_to,
        expires_at

    from holds
    where
        placed_at <= {{ retention_as_of() }}
        and (released_at is null or released_at > {{ retention_as_of() }})
        and (expires_at is null or expires_at > {{ retention_as_of() }})

)

select * from final
