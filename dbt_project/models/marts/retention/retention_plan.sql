-- Per retention policy (one data-map table): how many rows are past their
-- period, how many a legal hold keeps, how many were anonymised already, how
-- many are due, and the share of the table that is (for the circuit breaker).
{{ config(materialized='table') }}

with

overdue as (

    select
        policy_name,
        min(rule_name) as rule_name,
        count(*) as overdue_rows

    from {{ ref('int_retention__overdue') }}
    group by policy_name

),

held as (

    select
        policy_name,
        count(*) as held_rows

    from {{ ref('int_retention__held') }}
    group by policy_name

),

due as (

    select
        policy_name,
        count(*) as due_rows

    from {{ ref('retention_due_keys') }}
    group by policy_name

),

table_rows as (

    {{ retention_table_rows() }}

),

holds as (

    -- The holds this plan was built with: the executor re-checks this digest
    -- inside every batch and stops when a hold changed since.
    select
        md5(
            coalesce(string_agg(legal_holds::text, '|' order by legal_holds.hold_id), '')
        ) as holds_digest
    from {{ ref('stg_compliance__legal_holds') }} as legal_holds

),

final as (

    select
        table_rows.policy_name,
        overdue.rule_name,
        table_rows.table_rows,
        coalesce(overdue.overdue_rows, 0) as overdue_rows,
        coalesce(held.held_rows, 0) as held_rows,
        coalesce(overdue.overdue_rows, 0) - coalesce(held.held_rows, 0)
        - coalesce(due.due_rows, 0) as done_before_rows,
        coalesce(due.due_rows, 0) as due_rows,
        case
            when table_rows.table_rows > 0
                then coalesce(due.due_rows, 0)::numeric / table_rows.table_rows
            else 0
        end as due_share,
        holds.holds_digest,
        {{ retention_as_of() }} as as_of

    from table_rows
    cross join holds
    left join overdue on table_rows.policy_name = overdue.policy_name
    left join held on table_rows.policy_name = held.policy_name
    left join due on table_rows.policy_name = due.policy_name

)

select * from final
