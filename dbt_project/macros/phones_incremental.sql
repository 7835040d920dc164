{#- int_phones__contact_checks is incremental by the shared watermark
    (incremental_watermark.sql): its comment holds built_xmin and built_at. -#}

{#- The layout of int_phones__contact_checks: the vars its rules read. -#}
{% macro phones_contact_checks_layout() -%}
    {{ return(local_md5(
        'v2|' ~ var('phones_require_consent', false)
        ~ '|' ~ var('phones_ebr_purchase_months', 18)
        ~ '|' ~ var('phones_ebr_inquiry_months', 3)
    )) }}
{%- endmacro %}


{#- Pre-hook of int_phones__contact_checks. An incremental build that can be
    continued removes the checks of campaign calls that are no longer outbound
    campaign calls (deleted, or changed). One that cannot be continued starts
    empty (v2 of the layout: the CRM checks moved to their own table). -#}
{% macro phones_contact_checks_prune(relation) -%}
    {%- call watermark_prune(relation, phones_contact_checks_layout(), 'built_xmin') -%}
        delete from {{ relation }} as checks
        where
            not exists (
                select from {{ ref('stg_telephony__calls') }} as calls
                where
                    calls.call_id = checks.call_id
                    and calls.call_direction = 'outbound'
                    and calls.campaign_id is not null
            )
    {%- endcall -%}
{%- endmacro %}
