"""Approving a policy the retention circuit breaker stopped."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from steward import schema, warehouse
from steward.retention.policies import PolicyError, load_policies


def approve(policy_name: str, approved_by: str, url: str | None = None) -> dict[str, Any]:
    """Approve a policy the circuit breaker stopped, up to the due rows it reported.

    The approval is consumed by the next applied run that completes the policy;
    a larger due count than approved stops it again.
    """
    policy_set = load_policies()
    matches = policy_set.select([policy_name])
    engine = warehouse.engine(url)
    schema.upgrade(engine)
    approved = []
    with engine.begin() as conn:
        for policy in matches:
            stopped = (
                conn.execute(
                    sa.text(
                        "select rp.run_id, rp.due_rows from steward.retention_run_policies rp"
                        " join steward.retention_runs r using (run_id)"
                        " where rp.policy_name = :p and rp.policy_status = 'stopped_by_breaker'"
                        " order by r.started_at desc limit 1"
                    ),
                    {"p": policy.name},
                )
                .mappings()
                .first()
            )
            if stopped is None:
                continue
            approval_id = conn.execute(
                sa.text(
                    "insert into steward.retention_approvals (policy_name, approved_due_rows,"
                    " approved_by, stopped_run_id) values (:p, :due, :by, :run)"
                    " returning approval_id"
                ),
                {
                    "p": policy.name,
                    "due": stopped["due_rows"],
                    "by": approved_by,
                    "run": stopped["run_id"],
                },
            ).scalar()
            approved.append(
                {
                    "policy": policy.name,
                    "approved_due_rows": int(stopped["due_rows"]),
                    "approval_id": int(approval_id),
                }
            )
    if not approved:
        raise PolicyError([f"{policy_name}: no run stopped it at the circuit breaker"])
    return {"approved": approved}
