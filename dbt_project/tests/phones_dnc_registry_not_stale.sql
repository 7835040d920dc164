-- Fails when the national Do-Not-Call registry snapshot is older than
-- var `phones_dnc_max_age_days` (31) days at the reference date, or missing.
select
    reference_date,
    latest_snapshot_on,
    snapshot_age_days,
    max_age_days

from {{ ref('dnc_registry_status') }}
where is_stale
