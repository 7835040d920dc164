-- Identifiers -> the rows holding them, for every data-map table about
-- customers or prospects; built nightly after the phone lookup refresh.
-- steward.dsar.finder.find_with_index reads it to narrow a request's search and
-- confirms every candidate, and every row not yet indexed, against the live tables.
--
-- Incremental: a night re-indexes only the rows written since the last build
-- (transaction id at or after its watermark) and the rows whose phone number the
-- lookup re-parsed since: entries a re-indexed row no longer holds are deleted,
-- new ones inserted, the others left as they are (strategy subject_index_entries).
-- Entries of rows deleted since stay until a full refresh (the finder re-checks
-- every candidate live, so they find nothing). A changed data map (other tables or
-- identifier columns) rebuilds it whole; `dbt run --full-refresh -s dsar_subject_index`
-- does too. The build's watermark, time and layout are the table's comment
-- (steward.dsar.finder.subject_index_state), so a quiet night that writes no entry
-- still moves them.
{%- set layout = dsar_subject_index_layout() %}
{%- set previous = (
    watermark_previous_build(this, layout, 'indexed_xmin') if is_incremental() else none
) %}
{#- The value index is the finder's lookup path (it matches kind and table on the
    few entries of a value); the row index serves the delete+insert of re-indexed
    rows and the erasure's purge. No uniqueness: a row holding one value in two
    columns has two equal entries, which the finder unions away; keeping the
    index unique cost a sort of every entry (most of the `l` build). #}
{{ config(
    materialized='incremental',
    incremental_strategy='subject_index_entries',
    unique_key=['source_table', 'row_key'],
    on_schema_change='fail',
    indexes=[
        {'columns': ['identifier_value']},
        {'columns': ['source_table', 'row_key']},
    ],
    pre_hook=[
        "{{ watermark_mark_build('steward.dsar_index_xmin') }}",
        "{{ dsar_subject_index_truncate_if_relaid(this) }}",
    ],
    post_hook=[
        "{{ dsar_subject_index_reindex_if_relaid(this) }}",
        "{{ watermark_record_build(this, 'steward.dsar_index_xmin', 'indexed_xmin', 'indexed_at', dsar_subject_index_layout()) }}",
        "analyze {{ this }}",
    ]
) }}

with

identifier_rows as (

    {{ dsar_subject_index_rows(changed_since=previous) }}

),

final as (

    select
        identifier_kind,
        identifier_value,
        source_table,
        row_key,
        now() as indexed_at,
        -- Rows written by this transaction id or later may be missing: the
        -- finder checks them live (exact for inserts and updates). Taken by the
        -- pre-hook, in this transaction before this statement: never later than
        -- this statement's snapshot.
        current_setting('steward.dsar_index_xmin')::bigint as indexed_xmin

    from identifier_rows

)

select * from final
