-- noqa: disable=all
{#-
    Retention: the rows of every data-map table that are past their period.

    The tables, keys, clocks and rules come from the data map itself (the
    sources' `config.meta.steward`, read from dbt's graph), so no table list is
    written down twice. A policy whose effective period differs from its rule's
    (a statutory floor, an override validated by steward.retention.policies)
    arrives in the environment variable STEWARD_RETENTION_PERIOD_OVERRIDES (JSON
    {schema.table: '7 years'}). STEWARD_RETENTION_AS_OF (ISO timestamp) pins
    "now" for a run. Environment variables, not vars: dbt parses the whole
    project again whenever its vars change (every run: the as-of moves), but
    only the files that read an environment variable when that one changes.
-#}

{% macro retention_as_of() -%}
    {#- The session setting `steward.as_of` wins when set: a DSAR erasure reads the
        hold views built by last night's retention run "as of now" without a rebuild
        (set_config('steward.as_of', now()::text, true)). -#}
    {%- set as_of = env_var('STEWARD_RETENTION_AS_OF', '') -%}
    {%- if as_of -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9:.+-]*)?$', as_of | string) -%}
            {{ exceptions.raise_compiler_error("STEWARD_RETENTION_AS_OF: not an ISO date or timestamp: " ~ as_of) }}
        {%- endif -%}
        coalesce(nullif(current_setting('steward.as_of', true), '')::timestamptz, cast('{{ as_of }}' as timestamptz))
    {%- else -%}
        coalesce(nullif(current_setting('steward.as_of', true), '')::timestamptz, now())
    {%- endif -%}
{%- endmacro %}


{% macro retention_mapped_tables() -%}
    {#- [(source node, steward meta)] of every source with a retention rule, sorted. -#}
    {%- set tables = [] -%}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
        {%- set meta = (node.config.meta or node.meta or {}).get('steward') or {} -%}
        {%- if (meta.get('retention') or {}).get('rule') -%}
            {%- do tables.append((node, meta)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(tables) }}
{%- endmacro %}


{% macro retention_source_by_name(qualified_name) -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.schema ~ '.' ~ node.identifier == qualified_name -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("retention: " ~ qualified_name ~ " is not a source") }}
{%- endmacro %}


{% macro retention_relation(node) -%}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.identifier)) }}
{%- endmacro %}


{% macro retention_overdue_rows(periods) -%}
    {#- One `union all` arm per mapped table: its rows past the period, keys only. -#}
    {{ return(retention_rows(periods, overdue_only=true)) }}
{%- endmacro %}


{% macro retention_rows(periods=none, overdue_only=false) -%}
    {#- One `union all` arm per mapped table: its rows (only those past the period
        with `overdue_only`), keys, subject and clock only. Without `periods`, due_at
        is null (the legal-hold views need no period). -#}
    {%- set overrides = fromjson(env_var('STEWARD_RETENTION_PERIOD_OVERRIDES', '{}')) -%}
    {%- if overrides is not mapping -%}
        {{ exceptions.raise_compiler_error("STEWARD_RETENTION_PERIOD_OVERRIDES: not a JSON object") }}
    {%- endif -%}
    {%- set arms = [] -%}
    {%- if execute -%}
        {%- for node, meta in retention_mapped_tables() -%}
            {%- set retention = meta['retention'] -%}
            {%- set name = node.schema ~ '.' ~ node.identifier -%}
            {%- set relation = retention_relation(node) -%}
            {%- set primary_key = meta['primary_key'] -%}
            {%- set columns = adapter.get_columns_in_relation(relation) -%}
            {%- set integer_key = [] -%}
            {%- for column in columns -%}
                {%- if primary_key | length == 1 and column.name == primary_key[0]
                    and column.dtype in ('integer', 'bigint', 'smallint') -%}
                    {%- do integer_key.append(column.name) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- set key_texts = [] -%}
            {%- for key in primary_key -%}
                {%- do key_texts.append('t.' ~ adapter.quote(key) ~ '::text') -%}
            {%- endfor -%}
            {%- set subject_key = meta.get('subject_key') -%}
            {%- set clock_table = retention.get('clock_table') -%}
            {%- set references = meta.get('subject_key_references') -%}
            {%- if clock_table -%}
                {%- set clock = 'c.' ~ adapter.quote(retention['clock']) -%}
            {%- else -%}
                {%- set clock = 't.' ~ adapter.quote(retention['clock']) -%}
            {%- endif -%}
            {%- if references -%}
                {%- set referenced = retention_source_by_name(references) -%}
                {%- set referenced_meta = referenced.config.meta['steward'] -%}
                {%- set subject = 's.' ~ adapter.quote(referenced_meta['subject_key']) -%}
            {%- elif subject_key -%}
                {%- set subject = 't.' ~ adapter.quote(subject_key) -%}
            {%- else -%}
                {%- set subject = 'null' -%}
            {%- endif -%}
            {%- if periods is none -%}
                {%- set period = none -%}
            {%- elif name in overrides -%}
                {%- if not modules.re.match('^[0-9]+ (day|month|year)s?$', overrides[name] | string) -%}
                    {{ exceptions.raise_compiler_error("STEWARD_RETENTION_PERIOD_OVERRIDES: bad period for " ~ name) }}
                {%- endif -%}
                {%- set period = "interval '" ~ overrides[name] ~ "'" -%}
            {%- else -%}
                {%- set period = "(select p.retention_period from " ~ periods
                    ~ " as p where p.rule_name = '" ~ retention['rule'] ~ "')" -%}
            {%- endif -%}
            {%- set arm -%}
    select
        '{{ name }}'::text as policy_name,
        '{{ retention["rule"] }}'::text as rule_name,
        {{ key_texts | join(" || '|' || ") }} as record_key,
        array[{{ key_texts | join(', ') }}] as key_parts,
        {% if integer_key %}t.{{ adapter.quote(integer_key[0]) }}::bigint{% else %}0::bigint{% endif %} as sort_key,
        {{ subject }}::bigint as subject_customer_id,
        {{ clock }}::timestamptz as clock_at,
        {% if period %}{{ clock }}::timestamptz + {{ period }}{% else %}null::timestamptz{% endif %} as due_at
    from {{ relation }} as t
    {%- if clock_table %}
        inner join {{ retention_relation(retention_source_by_name(clock_table)) }} as c
            on t.{{ adapter.quote(subject_key) }} = c.{{ adapter.quote(subject_key) }}
    {%- endif %}
    {%- if references %}
        left join {{ retention_relation(referenced) }} as s
            on t.{{ adapter.quote(subject_key) }} = s.{{ adapter.quote(referenced_meta['primary_key'][0]) }}
    {%- endif %}
    {%- if overdue_only %}
    where {{ clock }}::timestamptz + {{ period }} < {{ retention_as_of() }}
    {%- endif %}
            {%- endset -%}
            {%- do arms.append(arm) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if arms -%}
        {{ arms | join('\n    union all\n') }}
    {%- else -%}
    select
        null::text as policy_name,
        null::text as rule_name,
        null::text as record_key,
        null::text [] as key_parts,
        null::bigint as sort_key,
        null::bigint as subject_customer_id,
        null::timestamptz as clock_at,
        null::timestamptz as due_at
    where false
    {%- endif -%}
{%- endmacro %}


{% macro retention_table_rows() -%}
    {#- The row count of every mapped table (for the circuit breaker's share). -#}
    {%- set arms = [] -%}
    {%- if execute -%}
        {%- for node, meta in retention_mapped_tables() -%}
            {%- do arms.append("select '" ~ node.schema ~ "." ~ node.identifier ~ "'::text as policy_name, count(*)::bigint as table_rows from " ~ retention_relation(node)) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if arms -%}
        {{ arms | join('\n    union all\n    ') }}
    {%- else -%}
    select null::text as policy_name, null::bigint as table_rows where false
    {%- endif -%}
{%- endmacro %}


{% macro legal_hold_matches(rows, holds) -%}
    {#- THE definition of "a legal hold protects this row", used by retention
        (int_retention__held) and DSAR erasure (int_retention__held_rows): one
        (policy_name, record_key, hold_id) per row and active hold. `rows` has
        policy_name, record_key, subject_customer_id, clock_at; `holds` is
        int_retention__active_holds. A table hold's date bounds are inclusive and
        a null bound is open; a row without a clock (an active customer, an open
        ticket) is still running, so it lies after any start date and only an
        open-ended hold covers it.
        Written so that `rows` is read once: the few active holds become two
        arrays (one row), the rows no hold could cover (another subject, a table
        without a record or table hold) are filtered out by them, and only the
        rest is compared with each hold (lateral). A join of the rows and the
        holds on the `or` below let PostgreSQL, estimating one hold, read every
        row once per hold (73 s instead of 15 s on the `l` warehouse). Filters on
        the view's policy_name and record_key still reach the rows' arms. -#}
    select
        rows_.policy_name,
        rows_.record_key,
        holds_.hold_id
    from {{ rows }} as rows_
    cross join (
        select
            coalesce(
                array_agg(customer_id) filter (where hold_scope = 'subject'), '{}'
            ) as subject_customer_ids,
            coalesce(
                array_agg(source_table) filter (where hold_scope in ('record', 'table')), '{}'
            ) as source_tables
        from {{ holds }}
    ) as hold_keys
    cross join lateral (
        select candidate_holds.hold_id
        from {{ holds }} as candidate_holds
        where
            (
                candidate_holds.hold_scope = 'subject'
                and rows_.subject_customer_id = candidate_holds.customer_id
            )
            or (
                candidate_holds.hold_scope = 'record'
                and rows_.policy_name = candidate_holds.source_table
                and rows_.record_key = candidate_holds.record_key
            )
            or (
                candidate_holds.hold_scope = 'table'
                and rows_.policy_name = candidate_holds.source_table
                and coalesce(rows_.clock_at::date, 'infinity'::date)
                >= coalesce(candidate_holds.date_from, '-infinity'::date)
                and coalesce(rows_.clock_at::date, 'infinity'::date)
                <= coalesce(candidate_holds.date_to, 'infinity'::date)
            )
        -- Kept a per-row subquery: pulled up into a join, it is the plan above.
        offset 0
    ) as holds_
    where
        rows_.subject_customer_id = any(hold_keys.subject_customer_ids)
        or rows_.policy_name = any(hold_keys.source_tables)
{%- endmacro %}
