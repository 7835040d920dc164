-- May this number be dialled at this moment? One row per check:
--   'crm_number':    every (customer, number) the CRM holds, at the reference date;
--   'campaign_call': every outbound campaign call, at the moment it was placed.
-- Rules (US TSR/TCPA): a number on the national registry needs an exemption
-- (express consent, or a live EBR); a do-not-call request (internal opt-out)
-- or a revoked consent forbids the call whatever the EBR, unless the customer
-- gave express consent again afterwards. With var `phones_require_consent`
-- (default false) every number needs a consent or a live EBR, registered or not.
--
-- Incremental (delete+insert on check_key): a night recomputes every CRM check
-- (they are judged at the reference date, which moves) and only the campaign
-- calls that may judge otherwise since the last build: calls written since its
-- watermark, calls of customers whose consents, opt-outs or customer row were
-- written since, calls to numbers newly opted out, listed or delisted (source
-- registry rows, imported intervals) or newly parsed by the lookup; after a DNC
-- import, every campaign call. Checks of calls no longer outbound campaign
-- calls go (pre-hook). Consents or opt-outs deleted (not revoked) are not seen:
-- `dbt build --full-refresh` rebuilds the whole table, with the same rows an
-- incremental night gives (tests/integration/test_phone_incremental.py).
-- Another value of the vars the rules read rebuilds it whole by itself.
{%- set layout = phones_contact_checks_layout() %}
{%- set previous = (
    watermark_previous_build(this, layout, 'built_xmin') if is_incremental() else none
) %}
{%- set lookup = phones_python_table('phone_lookup') %}
{%- set registry = phones_python_table('dnc_registry') %}
{%- set imports = phones_python_table('dnc_registry_imports') %}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='check_key',
    on_schema_change='fail',
    indexes=[
        {'columns': ['check_key'], 'unique': True},
        {'columns': ['call_id']},
    ],
    pre_hook=[
        "{{ watermark_mark_build('steward.phones_build_xmin') }}",
        "{{ phones_contact_checks_prune(this) }}",
    ],
    post_hook=[
        "{{ watermark_record_build(this, 'steward.phones_build_xmin', 'built_xmin', 'built_at', phones_contact_checks_layout()) }}",
        "analyze {{ this }}",
    ]
) }}

with

clock as (

    select * from {{ ref('int_phones__clock') }}

),

crm_normalised as (

    -- One branch of the view: the filter reaches its union.
    select * from {{ ref('int_phones__normalised') }}
    where source_table = 'crm.customer_phones'

),

crm_phones as (

    select * from {{ ref('stg_crm__customer_phones') }}

),

customers as not materialized (

    select * from {{ ref('stg_crm__customers') }}

),

lookup as not materialized (

    -- Read where it is joined (not materialized: it has millions of rows);
    -- xmin: which rows the lookup refresh wrote since the last build.
    {% if lookup is not none %}
        select
            *,
            xmin
        from {{ lookup }}
    {% else %}
        select
            null::xid as xmin,
            null::text as raw_value,
            null::text as region_hint,
            null::text as e164,
            null::text as parse_status
        where false
    {% endif %}

),

crm_numbers as (

    select
        'crm_number' as check_kind,
        crm_normalised.customer_id::text || '|'
        || coalesce(crm_normalised.e164, 'phone_id:' || crm_normalised.record_key) as check_key,
        crm_normalised.customer_id,
        crm_normalised.e164,
        bool_or(crm_normalised.is_valid) as is_valid,
        min(crm_normalised.parse_status) as parse_status,
        bool_or(crm_phones.is_disconnected) as is_disconnected,
        array_agg(crm_phones.phone_id order by crm_phones.phone_id) as phone_ids,
        null::bigint as call_id,
        min(clock.reference_date)::timestamptz as checked_at

    from crm_normalised
    inner join crm_phones
        on crm_normalised.record_key = crm_phones.phone_id::text
    cross join clock
    group by
        crm_normalised.customer_id,
        crm_normalised.e164,
        coalesce(crm_normalised.e164, 'phone_id:' || crm_normalised.record_key)

),

outbound_campaign_calls as (

    select
        calls.call_id,
        calls.customer_id,
        calls.started_at,
        calls.callee_number,
        customers.country_code

    from {{ ref('stg_telephony__calls') }} as calls
    left join customers
        on calls.customer_id = customers.customer_id
    where
        calls.call_direction = 'outbound'
        and calls.campaign_id is not null

),

{% if previous is not none %}
    changed_calls as (

        select calls.call_id
        from {{ source('telephony', 'calls') }} as calls
        where {{ watermark_written_since('calls', previous.built_xmin) }}

    ),

    changed_customers as (

        -- Their consents, EBRs and opt-outs, or their country (the region hint).
        select consents.customer_id
        from {{ source('compliance', 'consents') }} as consents
        where {{ watermark_written_since('consents', previous.built_xmin) }}

        union

        select opt_outs.customer_id
        from {{ source('marketing', 'opt_outs') }} as opt_outs
        where {{ watermark_written_since('opt_outs', previous.built_xmin) }}

        union

        select customers.customer_id
        from {{ source('crm', 'customers') }} as customers
        where {{ watermark_written_since('customers', previous.built_xmin) }}

    ),

    changed_numbers as (

        -- An opt-out covers its number whoever holds it.
        select lookup.e164
        from {{ source('marketing', 'opt_outs') }} as opt_outs
        left join customers on opt_outs.customer_id = customers.customer_id
        inner join lookup
            on
                steward.phone_raw_key(opt_outs.phone) = lookup.raw_value
                and steward.phone_region_key(customers.country_code) = lookup.region_hint
        where {{ watermark_written_since('opt_outs', previous.built_xmin) }}

        union

        -- Registry rows the source landed (parsed with no region hint).
        select lookup.e164
        from {{ source('compliance', 'dnc_registry') }} as dnc_registry
        inner join lookup
            on
                steward.phone_raw_key(dnc_registry.phone_number) = lookup.raw_value
                and lookup.region_hint = steward.phone_region_key(null)
        where {{ watermark_written_since('dnc_registry', previous.built_xmin) }}

        {% if registry is not none %}
            union

            select '+1' || registry.phone_number as e164
            from {{ registry }} as registry
            where {{ watermark_written_since('registry', previous.built_xmin) }}
        {% endif %}

        union

        -- Values the lookup parsed (or re-parsed) since.
        select lookup.e164
        from lookup
        where {{ watermark_written_since('lookup', previous.built_xmin) }}

    ),

    registry_imported as (

        -- An import may delete intervals and moves the first full import's date:
        -- every campaign call is judged again.
        {% if imports is not none %}
            select exists (
                select from {{ imports }} as imports
                where {{ watermark_written_since('imports', previous.built_xmin) }}
            ) as is_imported
        {% else %}
            select false as is_imported
        {% endif %}

    ),

    changed_keys as (

        -- Every spelling of a changed number, and every value parsed since.
        select
            lookup.raw_value,
            lookup.region_hint
        from lookup
        where
            lookup.e164 in (select changed_numbers.e164 from changed_numbers)
            or {{ watermark_written_since('lookup', previous.built_xmin) }}

    ),
{% endif %}

selected_calls as (

    -- The calls to judge (again), chosen before the lookup is joined.
    select * from outbound_campaign_calls
    {% if previous is not none %}
        where
            outbound_campaign_calls.call_id in (select changed_calls.call_id from changed_calls)
            or outbound_campaign_calls.customer_id in (
                select changed_customers.customer_id from changed_customers
            )
            or (
                steward.phone_raw_key(outbound_campaign_calls.callee_number),
                steward.phone_region_key(outbound_campaign_calls.country_code)
            ) in (select changed_keys.raw_value, changed_keys.region_hint from changed_keys)
            or (select registry_imported.is_imported from registry_imported)
    {% endif %}

),

dialled as (

    -- The number dialled, parsed as int_phones__normalised parses it (the
    -- customer's country as region hint): one pass over the calls, no join back.
    select
        selected_calls.call_id,
        selected_calls.customer_id,
        selected_calls.started_at,
        lookup.e164,
        coalesce(lookup.parse_status, 'not_normalised') as parse_status,
        coalesce(lookup.parse_status = 'valid', false) as is_valid

    from selected_calls
    left join lookup
        on
            steward.phone_raw_key(selected_calls.callee_number) = lookup.raw_value
            and steward.phone_region_key(selected_calls.country_code) = lookup.region_hint

),

campaign_calls as (

    select
        'campaign_call' as check_kind,
        dialled.call_id::text as check_key,
        dialled.customer_id,
        dialled.e164,
        dialled.is_valid,
        dialled.parse_status,
        false as is_disconnected,
        null::bigint[] as phone_ids,
        dialled.call_id,
        dialled.started_at as checked_at

    from dialled

),

checks as (

    select * from crm_numbers
    union all
    select * from campaign_calls

),

permissions as (

    select * from {{ ref('int_phones__contact_permissions') }}

),

listings as (

    select * from {{ ref('int_phones__dnc_listings') }}

),

express as (

    select
        checks.check_key,
        bool_or(
            permissions.revoked_at is null or permissions.revoked_at > checks.checked_at
        ) as has_express_consent,
        max(permissions.starts_at) filter (
            where permissions.revoked_at is null or permissions.revoked_at > checks.checked_at
        ) as express_consent_granted_at,
        max(permissions.revoked_at) filter (
            where permissions.revoked_at <= checks.checked_at
        ) as consent_revoked_at

    from checks
    inner join permissions
        on
            checks.customer_id = permissions.customer_id
            and (permissions.e164 is null or checks.e164 = permissions.e164)
    where
        permissions.permission_kind = 'express_consent'
        and permissions.starts_at <= checks.checked_at
    group by checks.check_key

),

business_relationships as (

    select
        checks.check_key,
        max(permissions.ends_at) as ebr_expires_at,
        bool_or(permissions.ends_at > checks.checked_at) as has_live_ebr

    from checks
    inner join permissions
        on checks.customer_id = permissions.customer_id
    where
        permissions.permission_kind in ('ebr_purchase', 'ebr_inquiry')
        and permissions.starts_at <= checks.checked_at
    group by checks.check_key

),

opt_out_matches as (

    -- A do-not-call request covers the number, whoever holds it...
    select
        checks.check_key,
        permissions.starts_at

    from checks
    inner join permissions
        on checks.e164 = permissions.e164
    where
        permissions.permission_kind = 'opt_out'
        and permissions.starts_at <= checks.checked_at

    union all

    -- ... or every number of the customer when it names no usable number.
    select
        checks.check_key,
        permissions.starts_at

    from checks
    inner join permissions
        on checks.customer_id = permissions.customer_id
    where
        permissions.permission_kind = 'opt_out'
        and permissions.e164 is null
        and permissions.starts_at <= checks.checked_at

),

opt_outs as (

    select
        check_key,
        max(starts_at) as opted_out_at

    from opt_out_matches
    group by check_key

),

registry as (

    select
        checks.check_key,
        min(listings.listed_on) as dnc_listed_on

    from checks
    inner join listings
        on checks.e164 = listings.e164
    where
        listings.listed_on <= checks.checked_at::date
        and (listings.delisted_on is null or listings.delisted_on > checks.checked_at::date)
    group by checks.check_key

),

flags as (

    select
        checks.*,
        express.express_consent_granted_at,
        express.consent_revoked_at,
        business_relationships.ebr_expires_at,
        opt_outs.opted_out_at,
        registry.dnc_listed_on,
        coalesce(express.has_express_consent, false) as has_express_consent,
        coalesce(business_relationships.has_live_ebr, false) as has_live_ebr,
        business_relationships.check_key is not null as had_ebr,
        registry.check_key is not null as is_on_national_dnc,
        -- Express consent given after a do-not-call request or a revocation lifts it.
        (
            opt_outs.opted_out_at is not null
            and not coalesce(express.express_consent_granted_at > opt_outs.opted_out_at, false)
        ) as has_internal_opt_out,
        (
            express.consent_revoked_at is not null
            and not coalesce(
                express.express_consent_granted_at > express.consent_revoked_at, false
            )
        ) as is_consent_revoked

    from checks
    left join express on checks.check_key = express.check_key
    left join business_relationships on checks.check_key = business_relationships.check_key
    left join opt_outs on checks.check_key = opt_outs.check_key
    left join registry on checks.check_key = registry.check_key

),

reasoned as (

    select
        flags.*,
        case
            when flags.has_express_consent then 'express_consent'
            when flags.has_live_ebr then 'established_business_relationship'
        end as contact_basis,
        -- In order of precedence: the first one is the reason shown.
        array_remove(
            array[
                case when not flags.is_valid then 'invalid_number' end,
                case when flags.is_disconnected then 'disconnected' end,
                case when flags.has_internal_opt_out then 'internal_opt_out' end,
                case when flags.is_consent_revoked then 'consent_revoked' end,
                case
                    when
                        flags.is_on_national_dnc
                        and not (flags.has_express_consent or flags.has_live_ebr)
                        then 'national_dnc'
                end,
                case
                    when
                        (flags.is_on_national_dnc or {{ var('phones_require_consent', false) }})
                        and not (flags.has_express_consent or flags.has_live_ebr)
                        and flags.had_ebr
                        then 'ebr_expired'
                end,
                case
                    when
                        (flags.is_on_national_dnc or {{ var('phones_require_consent', false) }})
                        and not (flags.has_express_consent or flags.has_live_ebr)
                        and not flags.had_ebr
                        and not flags.is_consent_revoked
                        then 'no_consent'
                end
            ],
            null
        ) as reasons

    from flags

),

final as (

    select
        *,
        cardinality(reasons) = 0 as is_contactable,
        reasons[1] as not_contactable_reason

    from reasoned

)

select * from final
