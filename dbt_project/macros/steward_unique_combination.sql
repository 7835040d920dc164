{#-
    Passes when no two rows share the same values in `columns` (a composite key).
    Written here because the dbt hub (dbt_utils) is out of reach.
-#}
{% test steward_unique_combination(model, columns) %}

    select
        {{ columns | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1

{% endtest %}
