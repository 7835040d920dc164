-- Customer duplicate clusters counted, for the stewards' dashboard: one row,
-- how many clusters and how many customer records they hold.
with

clusters as (

    select * from {{ ref('customer_duplicate_clusters') }}

),

final as (

    select
        count(*) as cluster_count,
        coalesce(sum(member_count), 0)::bigint as member_count

    from clusters

)

select * from final
