{#-
    True when two data categories agree: the same, or one refines the other
    (`user.name` and `user.name.first`, `user.contact.address` and
    `user.contact.address.street`). Mirrors
    steward.catalogue.nightly.categories_compatible.
-#}
{% macro catalogue_categories_compatible(found, declared) -%}
    (
        {{ found }} = {{ declared }}
        or starts_with({{ found }}, {{ declared }} || '.')
        or starts_with({{ declared }}, {{ found }} || '.')
    )
{%- endmacro %}
