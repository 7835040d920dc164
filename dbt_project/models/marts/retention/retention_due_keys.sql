-- The due rows of every retention policy, keys only, frozen for one run: the
-- executor walks them in keyset batches ordered by (sort_key, record_key).
{#- The index serves the keyset walk; fresh statistics make the planner walk it
    in order and stop at the batch size instead of sorting the whole policy. -#}
{{ config(
    materialized='table',
    post_hook=[
        "create index if not exists {{ this.identifier }}_batch_idx on {{ this }}"
        ~ " (policy_name, sort_key, record_key)",
        "analyze {{ this }}",
    ]
) }}

with

due as (

    select * from {{ ref('int_retention__due') }}

),

final as (

    select
        policy_name,
        rule_name,
        record_key,
        key_parts,
        sort_key,
        {{ retention_as_of() }} as as_of

    from due

)

select * from final
