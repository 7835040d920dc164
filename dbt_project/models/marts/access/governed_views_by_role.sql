-- The governed views counted per database role, for the stewards' dashboard:
-- how many views, and how many personal columns they mask, hash or hide.
with

governed as (

    select * from {{ ref('governed_columns') }}

),

final as (

    select
        database_role,
        count(distinct view_name) as view_count,
        count(*) filter (where treatment = 'masked') as masked_columns,
        count(*) filter (where treatment = 'hashed') as hashed_columns,
        count(*) filter (where treatment = 'hidden') as hidden_columns

    from governed
    group by database_role

)

select * from final
