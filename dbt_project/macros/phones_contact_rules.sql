-- noqa: disable=all
{#-
    THE contactability rules (US TSR/TCPA), one definition for both kinds of
    checks: int_phones__crm_contact_checks (every CRM number at the reference
    date) and int_phones__contact_checks (every outbound campaign call when it was
    placed). Emits the CTEs `permissions` (int_phones__contact_permissions),
    `listings` (int_phones__dnc_listings), `express` ... `final` of a model that
    has defined `checks` (check_kind, check_key, customer_id, e164, is_valid,
    parse_status, is_disconnected, phone_ids, call_id, checked_at); the model
    ends with `select * from final`. A number on the national registry
    needs an exemption (express consent, or a live EBR); a do-not-call request
    (internal opt-out) or a revoked consent forbids the call whatever the EBR,
    unless the customer gave express consent again afterwards. With var
    `phones_require_consent` (default false) every number needs a consent or a
    live EBR, registered or not.
-#}
{% macro phones_contact_rules() -%}
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
{%- endmacro %}
