-- Legal holds in force at the as-of instant (the run's, the session's
-- `steward.as_of`, else now()): placed at or before it, not released by it (a
-- release dated later is not yet in effect), not expired by it. The one
-- definition of an active hold: retention and DSAR erasure both read it.
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
        coalesce(placed_at, {{ retention_as_of() }}) <= {{ retention_as_of() }}
        and (released_at is null or released_at > {{ retention_as_of() }})
        and (expires_at is null or expires_at > {{ retention_as_of() }})

)

select * from final
