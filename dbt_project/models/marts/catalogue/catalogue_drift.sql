-- Drift between the PII catalogue and the data map (dbt source meta, copied to
-- steward.data_map_columns by the scan). One row per column and kind:
--   undeclared         personal data found (or confirmed) in a column the map
--                      does not declare: a governance gap
--   category_mismatch  declared, but every category found disagrees with the
--                      declared one: a governance gap
--   no_evidence        declared, covered by scans for at least
--                      var('steward_catalogue_no_evidence_days') days, and no
--                      evidence in that window
-- Rejected suggestions never count. Nothing is reported before the first scan.
with

catalogue as (

    select * from {{ ref('pii_catalogue') }}

),

declared as (

    select * from {{ source('steward', 'data_map_columns') }}

),

column_state as (

    select * from {{ source('steward', 'catalogue_column_state') }}

),

scan_clock as (

    select
        max(last_covered_at) as latest_scan_at,
        min(first_covered_at) as first_scan_at,
        max(last_covered_at)
        - make_interval(days => {{ var('steward_catalogue_no_evidence_days', 30) }})
            as window_start
    from column_state

),

-- What the catalogue holds as personal data today.
active as (

    select * from catalogue
    where status = 'confirmed' or (status = 'suggested' and is_current)

),

active_columns as (

    select
        schema_name,
        table_name,
        column_name,
        string_agg(category, ', ' order by confidence desc nulls first, category asc)
            as found_categories,
        max(confidence) as confidence
    from active
    group by schema_name, table_name, column_name

),

undeclared as (

    select
        'undeclared' as drift_kind,
        active_columns.schema_name,
        active_columns.table_name,
        active_columns.column_name,
        null::text as declared_category,
        active_columns.found_categories,
        active_columns.confidence,
        null::timestamptz as last_evidence_at,
        'personal data in a column the data map does not declare' as detail
    from active_columns
    left join declared
        on
            active_columns.schema_name = declared.schema_name
            and active_columns.table_name = declared.table_name
            and active_columns.column_name = declared.column_name
    where declared.column_name is null

),

category_mismatch as (

    select
        'category_mismatch' as drift_kind,
        declared.schema_name,
        declared.table_name,
        declared.column_name,
        declared.data_category as declared_category,
        active_columns.found_categories,
        active_columns.confidence,
        null::timestamptz as last_evidence_at,
        'declared under a category the evidence does not support' as detail
    from declared
    inner join active_columns
        on
            declared.schema_name = active_columns.schema_name
            and declared.table_name = active_columns.table_name
            and declared.column_name = active_columns.column_name
    where not exists (
        select 1
        from active
        where
            active.schema_name = declared.schema_name
            and active.table_name = declared.table_name
            and active.column_name = declared.column_name
            and {{ catalogue_categories_compatible('active.category', 'declared.data_category') }}
    )

),

evidence as (

    select
        declared.schema_name,
        declared.table_name,
        declared.column_name,
        declared.data_category,
        max(
            case
                when catalogue.status = 'confirmed' then scan_clock.latest_scan_at
                else catalogue.last_seen
            end
        ) as last_evidence_at
    from declared
    cross join scan_clock
    left join catalogue
        on
            declared.schema_name = catalogue.schema_name
            and declared.table_name = catalogue.table_name
            and declared.column_name = catalogue.column_name
            and catalogue.status <> 'rejected'
    group by
        declared.schema_name,
        declared.table_name,
        declared.column_name,
        declared.data_category

),

no_evidence as (

    select
        'no_evidence' as drift_kind,
        evidence.schema_name,
        evidence.table_name,
        evidence.column_name,
        evidence.data_category as declared_category,
        null::text as found_categories,
        null::numeric as confidence,
        evidence.last_evidence_at,
        case
            when column_state.column_name is null then 'declared but never scanned'
            else 'declared but no personal data found'
        end as detail
    from evidence
    cross join scan_clock
    left join column_state
        on
            evidence.schema_name = column_state.schema_name
            and evidence.table_name = column_state.table_name
            and evidence.column_name = column_state.column_name
    where
        scan_clock.latest_scan_at is not null
        and (
            evidence.last_evidence_at is null
            or evidence.last_evidence_at < scan_clock.window_start
        )
        and coalesce(column_state.first_covered_at, scan_clock.first_scan_at)
        <= scan_clock.window_start

),

final as (

    select * from undeclared
    union all
    select * from category_mismatch
    union all
    select * from no_evidence

)

select * from final
