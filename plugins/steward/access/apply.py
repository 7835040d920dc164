"""Apply the access policy: roles, policy tables, then dbt re-generates the governed views.

:func:`apply_policy` validates the policy file first (nothing changes when it is
broken), creates the database roles that do not exist yet (``NOLOGIN``: people
log in as their own roles and are granted one of these), replaces the policy
tables in one transaction, revokes any direct privilege the governed roles hold
on the data-map tables, and runs ``dbt build`` of ``models/marts/access``: the
model ``steward.governed_columns`` and its post-hook drop and re-create every
view of schema ``governed`` with its GRANT, then the access review marts and
their tests. Counts and names only are returned and audited.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from steward import audit, datamap, schema, warehouse
from steward.access.policy import AccessPolicy, load_policy

ACCESS_SELECTOR = "access"  # dbt_project/selectors.yml
# Roles are cluster-wide and several databases may create them at once.
_ROLE_LOCK = "steward.access.roles"


class AccessApplyError(RuntimeError):
    """The policy could not be applied (privileges, dbt)."""


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def ensure_roles(conn: sa.Connection, policy: AccessPolicy) -> list[str]:
    """Create the policy's database roles that are missing; return those created."""
    created = []
    conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": _ROLE_LOCK})
    for role in policy.roles:
        exists = conn.execute(
            sa.text("select exists (select from pg_roles where rolname = :r)"),
            {"r": role.database_role},
        ).scalar_one()
        if not exists:
            try:
                conn.exec_driver_sql(f"create role {_quote(conn, role.database_role)} nologin")
            except sa.exc.ProgrammingError as exc:
                raise AccessApplyError(
                    f"cannot create role {role.database_role!r}: the warehouse connection needs "
                    "CREATEROLE, or a DBA creates the policy's roles once"
                ) from exc
            created.append(role.database_role)
    return created


def write_policy(conn: sa.Connection, policy: AccessPolicy) -> None:
    """Replace the policy tables with ``policy`` (in the caller's transaction)."""
    conn.execute(sa.text("delete from steward.access_policy_roles"))
    conn.execute(sa.text("delete from steward.access_policy_categories"))
    conn.execute(sa.text("delete from steward.access_policy_settings"))
    conn.execute(
        sa.text(
            "insert into steward.access_policy_roles values"
            " (:name, :database_role, :description, :default, :undeclared)"
        ),
        [
            {
                "name": role.name,
                "database_role": role.database_role,
                "description": role.description,
                "default": role.default,
                "undeclared": role.undeclared,
            }
            for role in policy.roles
        ],
    )
    conn.execute(
        sa.text(
            "insert into steward.access_policy_categories values"
            " (:role_name, :database_role, :data_category, :treatment, :mask)"
        ),
        policy.resolved(),
    )
    conn.execute(
        sa.text(
            "insert into steward.access_policy_settings values (:superusers, :allowed, :sha, :at)"
        ),
        {
            "superusers": policy.superusers_allowed,
            "allowed": list(policy.allowed_direct_roles),
            "sha": policy.sha256,
            "at": dt.datetime.now(dt.UTC),
        },
    )
    # One key per warehouse, kept: pseudonyms stay stable from night to night.
    conn.execute(
        sa.text(
            "insert into steward.access_pseudonym_key"
            " select :key where not exists (select from steward.access_pseudonym_key)"
        ),
        {"key": secrets.token_hex(32)},
    )


def revoke_direct_access(conn: sa.Connection, policy: AccessPolicy, data_map) -> int:
    """The governed roles read through their views only: revoke anything else on the sources."""
    revoked = 0
    existing = {
        (row.table_schema, row.table_name)
        for row in conn.execute(
            sa.text(
                "select table_schema, table_name from information_schema.tables"
                " where table_schema = any(:schemas)"
            ),
            {"schemas": data_map.schemas},
        )
    }
    roles = ", ".join(_quote(conn, role.database_role) for role in policy.roles)
    for table in data_map.tables:
        if (table.schema, table.name) in existing:
            conn.exec_driver_sql(
                f"revoke all on table {_quote(conn, table.schema)}.{_quote(conn, table.name)}"
                f" from {roles}"
            )
            revoked += 1
    return revoked


def apply_policy(
    url: str | None = None,
    *,
    policy_file: Path | None = None,
    actor: str = "steward.access",
    dbt_vars: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate and load the policy, then re-generate the governed views with dbt."""
    from steward import dbt_runner

    loaded = load_policy_into_warehouse(url, policy_file=policy_file)  # validates first
    engine = warehouse.engine(url)
    result = dbt_runner.run(["build", "--selector", ACCESS_SELECTOR], url, dbt_vars=dbt_vars)
    if not result.success:
        raise AccessApplyError(
            f"dbt could not build the governed views: {dbt_runner.failure_summary(result)}"
        )
    summary = {**loaded, **summarise(url)}
    audit.record(
        engine,
        actor,
        "access.policy.applied",
        {
            "policy_sha256": loaded["policy_sha256"],
            "roles": loaded["roles"],
            "views": summary["views"],
            "hidden_undeclared_columns": summary["undeclared_columns"],
        },
    )
    return summary


def load_policy_into_warehouse(
    url: str | None = None, *, policy_file: Path | None = None
) -> dict[str, Any]:
    """Validate the policy, create missing roles, write the policy tables (one transaction).

    The nightly DAG's first access step; dbt then re-generates the views.
    """
    policy = load_policy(policy_file)  # raises before anything changes
    data_map = datamap.load_data_map()
    engine = warehouse.engine(url)
    schema.upgrade(engine)
    with engine.begin() as conn:
        created = ensure_roles(conn, policy)
        write_policy(conn, policy)
        revoked = revoke_direct_access(conn, policy, data_map)
    return {
        "policy_sha256": policy.sha256,
        "roles": len(policy.roles),
        "roles_created": len(created),
        "tables_revoked": revoked,
    }


def summarise(url: str | None = None) -> dict[str, Any]:
    """The governed views and the access review, as counts and names (no values)."""
    engine = warehouse.engine(url)
    with engine.connect() as conn:
        if not conn.execute(
            sa.text("select to_regclass('steward.access_review') is not null")
        ).scalar_one():
            return {"available": False}
        views = (
            conn.execute(
                sa.text(
                    "select role_name, database_role, count(distinct view_name) as views,"
                    " count(*) filter (where treatment = 'full'"
                    " and classification <> 'not_personal') as full_columns,"
                    " count(*) filter (where treatment = 'masked') as masked_columns,"
                    " count(*) filter (where treatment = 'hashed') as hashed_columns,"
                    " count(*) filter (where treatment = 'hidden') as hidden_columns"
                    " from steward.governed_columns group by 1, 2 order by 1"
                )
            )
            .mappings()
            .all()
        )
        undeclared = (
            conn.execute(
                sa.text(
                    "select schema_name || '.' || table_name || '.' || column_name"
                    " from steward.governed_source_columns where classification = 'undeclared'"
                    " order by 1"
                )
            )
            .scalars()
            .all()
        )
        review = (
            conn.execute(
                sa.text(
                    "select count(distinct role_name) filter (where object_kind = 'source_table')"
                    " as roles_reading_directly,"
                    " count(distinct role_name) filter (where not is_allowed)"
                    " as roles_in_violation,"
                    " count(*) filter (where not is_allowed) as violations,"
                    " count(distinct (schema_name, table_name, column_name))"
                    " filter (where object_kind = 'source_table') as personal_columns_read"
                    " from steward.access_review"
                )
            )
            .mappings()
            .one()
        )
        violating = (
            conn.execute(
                sa.text(
                    "select role_name, access_kind, count(*) as columns"
                    " from steward.access_violations group by 1, 2 order by 1, 2"
                )
            )
            .mappings()
            .all()
        )
    return {
        "available": True,
        "views": sum(row["views"] for row in views),
        "roles": [dict(row) for row in views],
        "undeclared_columns": list(undeclared),
        **dict(review),
        "violating_roles": [dict(row) for row in violating],
    }
