{#-
    The broad kind a consumer that knows only "person name" or "national id"
    reads a category as: first, last and full names (and employees' names)
    are a person name (`user.name`), every national id scheme
    (`user.government_id.national_id.fr_nir`) is a national id. Mirrors
    steward.catalogue.categories.family.
-#}
{% macro catalogue_category_family(category) -%}
    case
        when
            {{ category }} = 'employee.name'
            or {{ category }} = 'user.name'
            or starts_with({{ category }}, 'user.name.')
            then 'user.name'
        when starts_with({{ category }}, 'user.government_id.national_id.')
            then 'user.government_id.national_id'
        else {{ category }}
    end
{%- endmacro %}
