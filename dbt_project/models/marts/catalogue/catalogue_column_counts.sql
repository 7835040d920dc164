-- The PII catalogue counted, for the stewards' dashboard and its nightly
-- snapshot: columns per category, source system and review status. A column
-- is personal data today (is_current_pii) when confirmed, or suggested and
-- still found by the latest scan that covered it: the rule catalogue_drift
-- applies.
with

catalogue as (

    select * from {{ ref('pii_catalogue') }}

),

classified as (

    select
        category,
        schema_name as source_system,
        status,
        coalesce(status = 'confirmed' or (status = 'suggested' and is_current), false)
            as is_current_pii

    from catalogue

),

final as (

    select
        category,
        source_system,
        status,
        is_current_pii,
        count(*) as column_count

    from classified
    group by category, source_system, status, is_current_pii

)

select * from final
