-- Identifiers -> the rows holding them, for every data-map table about
-- customers or prospects; rebuilt nightly after the phone lookup refresh.
-- steward.dsar.finder.find_with_index reads it to narrow a request's search and
-- confirms every candidate, and every row not yet indexed, against the live tables.
{{ config(
    materialized='table',
    post_hook=[
        "create index if not exists {{ this.identifier }}_lookup_idx on {{ this }}"
        ~ " (identifier_kind, identifier_value, source_table)",
        "create index if not exists {{ this.identifier }}_row_idx on {{ this }}"
        ~ " (source_table, row_key)",
        "analyze {{ this }}",
    ]
) }}

with

identifier_rows as (

    {{ dsar_subject_index_rows() }}

),

final as (

    select distinct
        identifier_kind,
        identifier_value,
        source_table,
        row_key,
        now() as indexed_at,
        -- Rows written by this transaction id or later may be missing: the
        -- finder checks them live (exact for inserts and updates).
        pg_snapshot_xmin(pg_current_snapshot())::text::bigint as indexed_xmin

    from identifier_rows

)

select * from final
