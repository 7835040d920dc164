{#- Passes when every non-null value of `column_name` lies in [low, high]. -#}
{% test steward_catalogue_between(model, column_name, low, high) %}

    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < {{ low }} or {{ column_name }} > {{ high }}

{% endtest %}
