-- The retention rules with their period as a PostgreSQL interval, ready for
-- `clock + retention_period < now()`.
with

rules as (

    select * from {{ ref('retention_rules') }}

),

periods as (

    select
        rule_name,
        period_count,
        period_unit,
        jurisdiction,
        action as retention_action,
        legal_basis,
        is_statutory_minimum,
        case period_unit
            when 'day' then make_interval(days => period_count)
            when 'month' then make_interval(months => period_count)
            when 'year' then make_interval(years => period_count)
        end as retention_period

    from rules

)

select * from periods
