-- The breach clock: every required notice of an open incident with the time
-- left, computed when read (a view), for the dashboard. Counts, laws and times
-- only: the affected people stay in steward.breach_affected_subjects.
{{ config(materialized='view') }}

with

incidents as (

    select * from {{ source('steward', 'breach_incidents') }}
    where status in ('open', 'assessed', 'notifying')

),

notices as (

    select * from {{ source('steward', 'breach_notifications') }}
    where is_required

),

final as (

    select
        incidents.incident_id,
        incidents.reference,
        incidents.status as incident_status,
        incidents.aware_at,
        incidents.affected_subjects,
        notices.law_code,
        notices.law_name,
        notices.recipient,
        notices.citation,
        notices.affected,
        notices.deadline_text,
        notices.due_at,
        notices.notified_at,
        round((extract(epoch from notices.due_at - now()) / 3600)::numeric, 1) as hours_left,
        case
            when notices.notified_at is not null then 'given'
            when notices.due_at is null then 'without_undue_delay'
            when notices.due_at < now() then 'overdue'
            else 'running'
        end as clock_state
    from incidents
    inner join notices on incidents.incident_id = notices.incident_id

)

select * from final
