-- One row per data-subject request of the register (steward.dsar_requests,
-- owned by steward.dsar): its type, jurisdiction, dates and outcome. The
-- register's identifier columns (e-mail, phone, name, customer id, ticket) are
-- never selected: this is what dashboards and reports may show.
--
-- A view: the register changes every 15 minutes (bulk intake), and the
-- dashboard must not show last night's queue.
--
-- steward.dsar_requests is owned by steward.dsar (Python): the internal source
-- `steward`, which is not part of the data map.
{{ config(materialized='view') }}

with

register as (

    select
        request_id,
        request_type,
        jurisdiction,
        status,
        received_on,
        original_due_on,
        due_on,
        completed_at,
        rejection_reason,
        paused_days,
        extended_at,
        updated_at

    from {{ source('steward', 'dsar_requests') }}

),

classified as (

    select
        request_id,
        request_type,
        jurisdiction,
        status,
        received_on,
        original_due_on,
        due_on,
        updated_at as last_change_at,
        -- not_found is terminal too: its letter went out when the search came back empty
        coalesce(completed_at, case when status = 'not_found' then updated_at end)::date
            as completed_on,
        extended_at is not null as was_extended,
        coalesce(paused_days, 0) as paused_days,
        case when status = 'rejected' then updated_at::date end as rejected_on,
        status not in ('completed', 'rejected', 'not_found') as is_open,
        case
            when status = 'completed' and completed_at::date <= due_on then 'completed_on_time'
            when status = 'completed' then 'completed_late'
            when status = 'not_found' then 'not_found'
            -- steward.dsar.bulk and .intake write these reasons (field names, never values)
            when status = 'rejected' and rejection_reason like 'invalid request:%'
                then 'rejected_invalid'
            when status = 'rejected' and rejection_reason = 'identity could not be verified'
                then 'rejected_unverified'
            when status = 'rejected' then 'rejected_other'
            else 'open'
        end as outcome

    from register

),

final as (

    select
        request_id,
        request_type,
        jurisdiction,
        status,
        outcome,
        is_open,
        received_on,
        original_due_on,
        due_on,
        was_extended,
        paused_days,
        completed_on,
        rejected_on,
        last_change_at,
        coalesce(completed_on, rejected_on) - received_on as days_to_close,
        case when is_open then due_on - current_date end as days_left,
        coalesce(is_open and due_on < current_date, false) as is_overdue,
        -- Work that should be moving but has not changed for a day: never picked
        -- up by the intake, or a run that crashed half way (in_progress is
        -- automated and takes minutes). Waiting for verification or paused is not.
        coalesce(
            is_open
            and status in ('received', 'in_progress', 'extended')
            and last_change_at
            < now() - make_interval(hours => {{ var('dsar_stalled_after_hours', 24) }}),
            false
        ) as is_stalled

    from classified

)

select * from final
