-- Verification after an applied retention run (`steward retention run --apply`
-- sets STEWARD_RETENTION_VERIFIED_RUN, JSON {"policies": [...]}): for every
-- policy the run completed, no row that was due at the run's as-of instant (past
-- its period, under no legal hold, not anonymised) remains. Returns the policies
-- with rows left. Without it (a plain `dbt build`, no run to verify) it checks
-- nothing.
{%- set verified = fromjson(env_var('STEWARD_RETENTION_VERIFIED_RUN', '{}')) %}
{%- if verified is not mapping %}
    {{ exceptions.raise_compiler_error('STEWARD_RETENTION_VERIFIED_RUN: not a JSON object') }}
{%- endif %}
{%- set policies = verified.get('policies', []) %}
{%- for policy in policies %}
    {%- if not modules.re.match('^[a-z_][a-z0-9_]*[.][a-z_][a-z0-9_]*$', policy) %}
        {{ exceptions.raise_compiler_error('STEWARD_RETENTION_VERIFIED_RUN: bad policy ' ~ policy) }}
    {%- endif %}
{%- endfor %}

with

due as (

    select * from {{ ref('int_retention__due') }}

),

final as (

    select
        policy_name,
        count(*) as remaining_rows

    from due
    {%- if policies %}
        where
            policy_name in ('{{ policies | join("', '") }}')
            and due_at < {{ retention_as_of() }}
    {%- else %}
        where false
    {%- endif %}
    group by policy_name

)

select * from final
