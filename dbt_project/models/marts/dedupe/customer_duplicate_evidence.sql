-- Why fuzzy matching thinks two customer records are one person: every scored
-- pair (at or above splink's prediction threshold) with its probability and,
-- per compared field, whether it agreed exactly, fuzzily, differed or was
-- missing. Ids and outcomes only: stewards open the records themselves.
--
-- steward.customer_match_pairs and customer_clusters are Python-owned (the
-- internal source `steward`); before the first run the mart is empty.
{%- set pairs_relation = source('steward', 'customer_match_pairs') %}
{%- set clusters_relation = source('steward', 'customer_clusters') %}

with

pairs as (

    select
        customer_id_l,
        customer_id_r,
        match_probability,
        match_weight,
        evidence,
        agreed_fields,
        fuzzy_fields,
        differing_fields
    from {{ pairs_relation }}

),

clusters as (

    select
        cluster_id,
        customer_id
    from {{ clusters_relation }}

),

final as (

    select
        pairs.customer_id_l,
        pairs.customer_id_r,
        pairs.match_probability,
        pairs.match_weight,
        pairs.evidence,
        pairs.agreed_fields,
        pairs.fuzzy_fields,
        pairs.differing_fields,
        -- Set when both records sit in one cluster (the pair, or a chain of
        -- pairs, reached the clustering threshold).
        case
            when clusters_l.cluster_id = clusters_r.cluster_id then clusters_l.cluster_id
        end as cluster_id,
        cardinality(pairs.agreed_fields) as agreed_field_count

    from pairs
    left join clusters as clusters_l
        on pairs.customer_id_l = clusters_l.customer_id
    left join clusters as clusters_r
        on pairs.customer_id_r = clusters_r.customer_id

)

select * from final
