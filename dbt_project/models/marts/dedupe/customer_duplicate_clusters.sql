-- Customer records that fuzzy matching (steward.dedupe, splink) puts in one
-- cluster, with a proposed surviving record. A proposal only: nothing is merged.
--
-- Surviving record rule, in order:
--   1. the most complete record (most of name, birth date, e-mail, phone, address filled);
--   2. an active record over a closed one;
--   3. the most recent activity (last contact or update);
--   4. the oldest record (lowest customer_id), so the choice is deterministic.
--
-- steward.customer_clusters and customer_match_pairs are written by Python
-- (steward.dedupe): the internal source `steward`, not part of the data map.
-- Before the first matching run they are empty, and so is the mart.

{%- set clusters_relation = source('steward', 'customer_clusters') %}
{%- set pairs_relation = source('steward', 'customer_match_pairs') %}

with

records as (

    select * from {{ ref('int_dedupe__customer_records') }}

),

clusters as (

    select
        run_id,
        cluster_id,
        customer_id
    from {{ clusters_relation }}

),

pairs as (

    select
        customer_id_l,
        customer_id_r,
        match_probability
    from {{ pairs_relation }}

),

members as (

    select
        clusters.run_id,
        clusters.cluster_id,
        clusters.customer_id,
        records.customer_status,
        records.last_activity_at,
        (records.first_name is not null)::int
        + (records.last_name is not null)::int
        + (records.date_of_birth is not null)::int
        + (records.email is not null)::int
        + (records.phone_e164 is not null)::int
        + (records.postal_code is not null)::int
        + (records.street is not null)::int as filled_fields

    from clusters
    inner join records
        on clusters.customer_id = records.customer_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by cluster_id
            order by
                filled_fields desc,
                (customer_status = 'active') desc,
                last_activity_at desc nulls last,
                customer_id asc
        ) as survivor_rank

    from members

),

cluster_pairs as (

    select
        clusters.cluster_id,
        max(pairs.match_probability) as max_match_probability,
        min(pairs.match_probability) as min_match_probability,
        count(*) as scored_pairs

    from pairs
    inner join clusters
        on pairs.customer_id_l = clusters.customer_id
    inner join clusters as clusters_r
        on
            pairs.customer_id_r = clusters_r.customer_id
            and clusters.cluster_id = clusters_r.cluster_id
    group by clusters.cluster_id

),

final as (

    select
        ranked.cluster_id,
        'most_complete_then_active_then_recent_then_oldest' as survivor_rule,
        min(ranked.run_id::text)::uuid as run_id,
        count(*) as member_count,
        array_agg(ranked.customer_id order by ranked.customer_id) as member_customer_ids,
        min(ranked.customer_id) filter (where ranked.survivor_rank = 1)
            as surviving_customer_id,
        max(cluster_pairs.max_match_probability) as max_match_probability,
        min(cluster_pairs.min_match_probability) as min_match_probability,
        coalesce(max(cluster_pairs.scored_pairs), 0) as scored_pairs

    from ranked
    left join cluster_pairs
        on ranked.cluster_id = cluster_pairs.cluster_id
    group by ranked.cluster_id

)

select * from final
