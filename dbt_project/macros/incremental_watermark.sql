{#-
    Incremental models that re-read only rows written since their last build
    (dsar_subject_index, int_phones__contact_checks): a build records its
    transaction-id watermark and its layout as the table's comment, in the
    build's transaction. The next build continues it only with the same layout.
-#}

{#- The previous build (the comment's object) when it can be continued: same
    layout and a watermark under `xmin_key`; else none (build everything). -#}
{% macro watermark_previous_build(relation, layout, xmin_key) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query(
        "select obj_description('" ~ relation ~ "'::regclass, 'pg_class')"
    ) -%}
    {%- set comment = result.columns[0].values()[0] if result.rows | length else none -%}
    {%- if not comment or not comment.startswith('{') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set build = fromjson(comment) -%}
    {%- if build.get('layout') != layout or build.get(xmin_key) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(build) }}
{%- endmacro %}


{#- Pre-hook: the build's watermark in session setting `setting`, taken before
    the build statement (never later than its snapshot): rows it cannot see were
    written by a transaction at least this new, and the next build reads them. -#}
{% macro watermark_mark_build(setting) -%}
    select set_config(
        '{{ setting }}',
        pg_snapshot_xmin(pg_current_snapshot())::text,
        false
    )
{%- endmacro %}


{#- Post-hook: the watermark (under `xmin_key`), the time (under `at_key`) and
    the layout as the table's comment. -#}
{% macro watermark_record_build(relation, setting, xmin_key, at_key, layout) -%}
    do $steward$ begin
        execute format(
            'comment on table {{ relation }} is %L',
            jsonb_build_object(
                '{{ at_key }}', now(),
                '{{ xmin_key }}', current_setting('{{ setting }}')::bigint,
                'layout', '{{ layout }}'
            )::text
        );
    end $steward$
{%- endmacro %}


{#- Rows of `alias` written by a transaction at or after watermark `xmin`. Row
    xmins are 32-bit and wrap: ages are compared (exact for anything younger than
    two billion transactions; a frozen row reads as old), as the finder does. -#}
{% macro watermark_written_since(alias, xmin) -%}
    age({{ alias }}.xmin) <= age('{{ xmin % 4294967296 }}'::xid)
{%- endmacro %}


{#- `column` of the rows of each of `relations` written since watermark `xmin`,
    as one union (the keys an incremental night builds again). -#}
{% macro watermark_keys_written_since(column, relations, xmin) -%}
    {%- for relation in relations %}
        {{ 'union' if not loop.first }}
        select written.{{ column }}
        from {{ relation }} as written
        where {{ watermark_written_since('written', xmin) }}
    {%- endfor %}
{%- endmacro %}


{#- Pre-hook of an incremental model on the watermark: nothing on a first or full
    build; an incremental build that cannot be continued (another layout, or no
    recorded build) starts empty; one that can runs the caller's prune (the rows
    whose sources were deleted since, which no watermark shows). -#}
{% macro watermark_prune(relation, layout, xmin_key) -%}
    {%- if not is_incremental() -%}
        select 1
    {%- elif watermark_previous_build(relation, layout, xmin_key) is none -%}
        truncate {{ relation }}
    {%- else -%}
        {{ caller() }}
    {%- endif -%}
{%- endmacro %}
