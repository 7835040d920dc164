-- The PII catalogue: one row per (schema, table, column, category) the scanner
-- has ever reported as personal data, or a steward has confirmed. Derived from
-- the whole scan history (steward.catalogue_scan_results, written by
-- `steward catalogue scan --persist`), so first_seen / last_seen survive any
-- rebuild. A column dropped from the database is no longer current. A
-- steward's decision in the seed `catalogue_overrides` wins over the scanner on
-- every later run. Counts and evidence only: no value is stored.
with

results as (

    select * from {{ source('steward', 'catalogue_scan_results') }}

),

column_state as (

    select * from {{ source('steward', 'catalogue_column_state') }}

),

declared as (

    select * from {{ source('steward', 'data_map_columns') }}

),

overrides as (

    select
        reviewed_by,
        reviewed_on::text as reviewed_on,
        note as review_note,
        trim(schema_name) as schema_name,
        trim(table_name) as table_name,
        trim(column_name) as column_name,
        trim(category) as category,
        lower(trim(status)) as override_status
    from {{ ref('catalogue_overrides') }}
    where lower(trim(status)) in ('confirmed', 'rejected')

),

pii_results as (

    select * from results
    where is_pii

),

history as (

    select
        schema_name,
        table_name,
        column_name,
        category,
        min(scanned_at) as first_seen,
        max(scanned_at) as last_seen,
        count(*) as runs_seen
    from pii_results
    group by schema_name, table_name, column_name, category

),

latest_ranked as (

    select
        pii_results.*,
        row_number() over (
            partition by
                pii_results.schema_name,
                pii_results.table_name,
                pii_results.column_name,
                pii_results.category
            order by pii_results.scanned_at desc
        ) as recency
    from pii_results

),

latest as (

    select * from latest_ranked
    where recency = 1

),

suggestions as (

    select
        history.schema_name,
        history.table_name,
        history.column_name,
        history.category,
        history.first_seen,
        history.last_seen,
        history.runs_seen,
        latest.data_type,
        latest.confidence,
        latest.is_best_category,
        latest.rule as evidence_rule,
        latest.name_pattern,
        latest.validator,
        latest.sample_rows,
        latest.non_null,
        latest.matches,
        latest.shape_only,
        latest.values_with_pii_spans,
        latest.evidence,
        column_state.last_covered_at,
        coalesce(latest.carried_from_run_id, latest.run_id) as evidence_run_id,
        -- Still reported by the latest run that covered the column.
        coalesce(
            history.last_seen >= column_state.last_covered_at
            and column_state.status <> 'gone',
            false
        ) as is_current
    from history
    inner join latest
        on
            history.schema_name = latest.schema_name
            and history.table_name = latest.table_name
            and history.column_name = latest.column_name
            and history.category = latest.category
    left join column_state
        on
            history.schema_name = column_state.schema_name
            and history.table_name = column_state.table_name
            and history.column_name = column_state.column_name

),

reviewed as (

    select
        suggestions.confidence,
        suggestions.is_best_category,
        suggestions.evidence_rule,
        suggestions.name_pattern,
        suggestions.validator,
        suggestions.sample_rows,
        suggestions.non_null,
        suggestions.matches,
        suggestions.shape_only,
        suggestions.values_with_pii_spans,
        suggestions.evidence,
        suggestions.evidence_run_id,
        suggestions.data_type,
        suggestions.first_seen,
        suggestions.last_seen,
        suggestions.last_covered_at,
        overrides.reviewed_by,
        overrides.reviewed_on,
        overrides.review_note,
        coalesce(suggestions.schema_name, overrides.schema_name) as schema_name,
        coalesce(suggestions.table_name, overrides.table_name) as table_name,
        coalesce(suggestions.column_name, overrides.column_name) as column_name,
        coalesce(suggestions.category, overrides.category) as category,
        coalesce(overrides.override_status, 'suggested') as status,
        coalesce(suggestions.runs_seen, 0) as runs_seen,
        coalesce(suggestions.is_current, false) as is_current
    from suggestions
    full outer join overrides
        on
            suggestions.schema_name = overrides.schema_name
            and suggestions.table_name = overrides.table_name
            and suggestions.column_name = overrides.column_name
            and suggestions.category = overrides.category
    -- A rejection of something never suggested says nothing.
    where suggestions.schema_name is not null or overrides.override_status = 'confirmed'

),

final as (

    select
        reviewed.*,
        declared.data_category as declared_category,
        {{ catalogue_category_family('reviewed.category') }} as category_family
    from reviewed
    left join declared
        on
            reviewed.schema_name = declared.schema_name
            and reviewed.table_name = declared.table_name
            and reviewed.column_name = declared.column_name

)

select * from final
