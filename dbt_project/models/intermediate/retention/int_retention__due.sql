-- The rows retention must act on now: overdue, under no legal hold, and not
-- already anonymised (steward.retention_anonymised, the executor's ledger).
{{ config(materialized='view') }}

with

overdue as (

    select * from {{ ref('int_retention__overdue') }}

),

held as (

    select * from {{ ref('int_retention__held') }}

),

anonymised as (

    select
        policy_name,
        record_key
    from {{ source('steward', 'retention_anonymised') }}

),

final as (

    select
        overdue.policy_name,
        overdue.rule_name,
        overdue.record_key,
        overdue.key_parts,
        overdue.sort_key,
        overdue.due_at

    from overdue
    where
        not exists (
            select 1 from held
            where
                held.policy_name = overdue.policy_name
                and held.record_key = overdue.record_key
        )
        and not exists (
            select 1 from anonymised
            where
                anonymised.policy_name = overdue.policy_name
                and anonymised.record_key = overdue.record_key
        )

)

select * from final
