-- Every column of every data-map table as the warehouse has it, classified for
-- access control:
--   declared      the data map gives it a data category
--   undeclared    the PII catalogue holds personal data in it (or has never
--                 scanned it) and the data map does not declare it: hidden from
--                 a role until a steward declares it
--   not_personal  listed by the map without a category, or scanned with nothing found
with

mapped as (

    {{ access_data_map_columns() }}

),

mapped_tables as (

    select distinct
        schema_name,
        table_name
    from mapped

),

warehouse_columns as (

    select
        information_columns.table_schema::text as schema_name,
        information_columns.table_name::text as table_name,
        information_columns.column_name::text as column_name,
        information_columns.ordinal_position::integer as ordinal_position,
        information_columns.data_type::text as data_type
    from information_schema.columns as information_columns
    inner join mapped_tables
        on
            information_columns.table_schema = mapped_tables.schema_name
            and information_columns.table_name = mapped_tables.table_name

),

catalogue as (

    select
        schema_name,
        table_name,
        column_name,
        -- The best supported category: highest confidence, confirmed first.
        (array_agg(category order by status = 'confirmed' desc, confidence desc nulls last))[1]
            as found_category
    from {{ access_catalogue() }}
    where status = 'confirmed' or (status = 'suggested' and is_current)
    group by schema_name, table_name, column_name

),

column_state as (

    select * from {{ source('steward', 'catalogue_column_state') }}

),

final as (

    select
        warehouse_columns.schema_name,
        warehouse_columns.table_name,
        warehouse_columns.column_name,
        warehouse_columns.ordinal_position,
        warehouse_columns.data_type,
        mapped.data_category as declared_category,
        catalogue.found_category,
        coalesce(mapped.data_category, catalogue.found_category) as data_category,
        case
            when mapped.data_category is not null then 'declared'
            when catalogue.found_category is not null then 'undeclared'
            when mapped.column_name is not null then 'not_personal'
            when column_state.column_name is not null then 'not_personal'
            else 'undeclared'
        end as classification
    from warehouse_columns
    left join mapped
        on
            warehouse_columns.schema_name = mapped.schema_name
            and warehouse_columns.table_name = mapped.table_name
            and warehouse_columns.column_name = mapped.column_name
    left join catalogue
        on
            warehouse_columns.schema_name = catalogue.schema_name
            and warehouse_columns.table_name = catalogue.table_name
            and warehouse_columns.column_name = catalogue.column_name
    left join column_state
        on
            warehouse_columns.schema_name = column_state.schema_name
            and warehouse_columns.table_name = column_state.table_name
            and warehouse_columns.column_name = column_state.column_name
            and column_state.status <> 'gone'

)

select * from final
