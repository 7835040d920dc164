{#- int_dedupe__customer_records is incremental by the shared watermark
    (incremental_watermark.sql): its comment holds built_xmin and built_at. -#}

{#- The layout of int_dedupe__customer_records: bump it when what a record holds
    changes, and the next build starts empty and refills every customer. -#}
{% macro dedupe_records_layout() -%}
    {{ return(local_md5('dedupe_records|v1')) }}
{%- endmacro %}


{#- Pre-hook of int_dedupe__customer_records. An incremental build that can be
    continued removes the records of customers deleted since, and of customers
    whose chosen phone or address row was deleted or moved to another customer
    (the model fills them again: they are missing). One that cannot be continued
    starts empty. A deleted phone or address that was not chosen changes nothing:
    the chosen one is still first. -#}
{% macro dedupe_records_prune(relation) -%}
    {%- call watermark_prune(relation, dedupe_records_layout(), 'built_xmin') -%}
        delete from {{ relation }} as records
        where
            not exists (
                select from {{ source('crm', 'customers') }} as customers
                where customers.customer_id = records.customer_id
            )
            {%- for chosen, table, key in [
                ('best_phone_id', 'customer_phones', 'phone_id'),
                ('current_address_id', 'customer_addresses', 'address_id'),
            ] %}
            or (
                records.{{ chosen }} is not null
                and not exists (
                    select from {{ source('crm', table) }} as chosen_rows
                    where
                        chosen_rows.{{ key }} = records.{{ chosen }}
                        and chosen_rows.customer_id = records.customer_id
                )
            )
        {%- endfor %}
    {%- endcall -%}
{%- endmacro %}
