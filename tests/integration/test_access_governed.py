"""Role-based access on a seeded warehouse, tested by logging in as real roles.

The module seeds its own warehouse (scale s, seed 42) and runs the catalogue,
so the planted undeclared column crm.customers.attr_3 is known; it creates
login roles (cluster-wide, uniquely named, dropped afterwards), grants them the
policy's group roles, and connects as them.
"""

from __future__ import annotations

import shutil
import textwrap
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from steward import datamap, dbt_runner, paths, warehouse
from steward.access import apply
from steward.access.policy import DEFAULT_POLICY_FILE, AccessPolicyError
from steward.catalogue import nightly as catalogue

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def access_url(server_admin_url):
    from steward.seed import generate

    name = f"steward_access_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = make_url(server_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        generate.seed_warehouse(scale="s", seed=42, url=url, progress=False)
        catalogue.run_scan(url)
        assert catalogue.build_marts(url)
        yield url
    finally:
        warehouse._engine_for.cache_clear()
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()
        shutil.rmtree(paths.recordings_dir() / name, ignore_errors=True)


@pytest.fixture(scope="module")
def applied(access_url):
    return apply.apply_policy(access_url, policy_file=DEFAULT_POLICY_FILE)


@pytest.fixture(scope="module")
def login_role(access_url, server_admin_url):
    """A person's login role, member of steward_analyst; yields a URL logging in as it."""
    name = f"analyst_{uuid.uuid4().hex[:8]}"
    admin = warehouse.engine(access_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"create role {name} login password 'not-a-secret-{name}'")
        conn.exec_driver_sql(f"grant steward_analyst to {name}")
    url = (
        make_url(access_url)
        .set(username=name, password=f"not-a-secret-{name}")
        .render_as_string(hide_password=False)
    )
    engine = sa.create_engine(url)
    yield name, engine
    engine.dispose()
    with admin.begin() as conn:
        conn.exec_driver_sql(f"drop owned by {name}")
        conn.exec_driver_sql(f"drop role {name}")


def _columns(engine, view: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(f"select * from governed.{view} limit 0")).keys())


def test_one_view_per_role_and_data_map_table(applied, access_url):
    data_map = datamap.load_data_map()
    expected = {
        f"{role}__{table.schema}__{table.name}"
        for role in ("analyst", "agent", "privacy")
        for table in data_map.tables
    }
    with warehouse.engine(access_url).connect() as conn:
        views = set(
            conn.execute(
                sa.text(
                    "select table_name from information_schema.views"
                    " where table_schema = 'governed'"
                )
            ).scalars()
        )
    assert views == expected
    assert applied["views"] == len(expected)
    assert applied["undeclared_columns"] == ["crm.customers.attr_3"]


def test_the_analyst_reads_masked_and_hashed_values(applied, login_role, access_url):
    _, analyst = login_role
    columns = _columns(analyst, "analyst__crm__customers")
    assert "attr_3" not in columns  # undeclared PII: hidden until declared
    assert "customer_id" in columns and "email" in columns
    with analyst.connect() as conn:
        seen = conn.execute(
            sa.text(
                "select count(*) as rows,"
                " count(*) filter (where email !~ '^\\*\\*\\*@[^@]+$') as unmasked_emails,"
                " count(*) filter (where first_name !~ '^[0-9a-f]{64}$') as unhashed_names,"
                " count(*) filter (where date_of_birth not between 1900 and 2026) as not_years"
                " from governed.analyst__crm__customers"
            )
        ).one()
        phones = conn.execute(
            sa.text(
                "select count(*) filter (where phone_raw !~ '^\\*\\*\\*[0-9]{0,4}$')"
                " from governed.analyst__crm__customer_phones"
            )
        ).scalar_one()
    with warehouse.engine(access_url).connect() as conn:
        customers, with_email = conn.execute(
            sa.text("select count(*), count(email) from crm.customers")
        ).one()
    assert seen.rows == customers
    assert seen.unmasked_emails == 0 and with_email > 0
    assert seen.unhashed_names == 0
    assert seen.not_years == 0
    assert phones == 0
    # Payments: card numbers show their last four digits at most.
    assert "card_number" in _columns(analyst, "analyst__billing__payments")


def test_the_analyst_is_refused_on_every_raw_table_and_other_roles_views(applied, login_role):
    _, analyst = login_role
    data_map = datamap.load_data_map()
    refused = []
    targets = [table.qualified_name for table in data_map.tables] + [
        "governed.agent__crm__customers",
        "governed.privacy__crm__customers",
        "steward.access_pseudonym_key",
        "steward.governed_columns",
    ]
    for target in targets:
        with analyst.connect() as conn:
            try:
                conn.execute(sa.text(f"select 1 from {target} limit 1"))
            except sa.exc.ProgrammingError as exc:
                assert "permission denied" in str(exc.orig)
                refused.append(target)
    assert refused == targets


def test_the_agent_and_privacy_views_follow_the_policy(applied, access_url):
    engine = warehouse.engine(access_url)
    agent = _columns(engine, "agent__crm__customers")
    privacy = _columns(engine, "privacy__crm__customers")
    assert "attr_3" not in agent and "attr_3" in privacy  # privacy: undeclared full
    with engine.connect() as conn:
        agent_emails_equal = conn.execute(
            sa.text(
                "select bool_and(v.email is not distinct from c.email)"
                " from governed.agent__crm__customers as v"
                " join crm.customers as c using (customer_id)"
            )
        ).scalar_one()
    assert agent_emails_equal


def test_changing_the_policy_regenerates_the_views(applied, access_url, login_role, tmp_path):
    _, analyst = login_role
    changed = tmp_path / "policy.yml"
    changed.write_text(
        DEFAULT_POLICY_FILE.read_text()
        .replace("      user.contact.email: masked\n", "      user.contact.email: hidden\n", 1)
        .replace("      user.name: hashed\n", "      user.name: full\n", 1)
    )
    try:
        summary = apply.apply_policy(access_url, policy_file=changed)
        columns = _columns(analyst, "analyst__crm__customers")
        assert "email" not in columns
        with analyst.connect() as conn, warehouse.engine(access_url).connect() as owner:
            names = (
                conn.execute(
                    sa.text(
                        "select first_name from governed.analyst__crm__customers order by 1 limit 5"
                    )
                )
                .scalars()
                .all()
            )
            raw = (
                owner.execute(sa.text("select first_name from crm.customers order by 1 limit 5"))
                .scalars()
                .all()
            )
        assert names == raw
        assert summary["policy_sha256"] != applied["policy_sha256"]
    finally:
        apply.apply_policy(access_url, policy_file=DEFAULT_POLICY_FILE)
    assert "email" in _columns(analyst, "analyst__crm__customers")


def test_a_broken_policy_changes_nothing(applied, access_url, tmp_path):
    broken = tmp_path / "policy.yml"
    broken.write_text(
        textwrap.dedent("""
        roles:
          analyst:
            database_role: steward_analyst
            categories: {user.contact.email: visible}
    """)
    )
    engine = warehouse.engine(access_url)
    query = "select md5(string_agg(t::text, ',' order by t::text)) from steward.{} as t"
    with engine.connect() as conn:
        before = [
            conn.execute(sa.text(query.format(t))).scalar_one()
            for t in ("access_policy_roles", "access_policy_categories", "governed_columns")
        ]
    with pytest.raises(AccessPolicyError, match="'visible' is not one of"):
        apply.apply_policy(access_url, policy_file=broken)
    with engine.connect() as conn:
        after = [
            conn.execute(sa.text(query.format(t))).scalar_one()
            for t in ("access_policy_roles", "access_policy_categories", "governed_columns")
        ]
    assert before == after


def test_the_access_review_finds_a_direct_grant_and_its_members(applied, access_url, login_role):
    name, _ = login_role
    group = f"reporting_{uuid.uuid4().hex[:8]}"
    engine = warehouse.engine(access_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"create role {group} nologin")
        conn.exec_driver_sql(f"grant {group} to {name}")
        conn.exec_driver_sql(f"grant usage on schema crm to {group}")
        conn.exec_driver_sql(f"grant select (customer_id, email) on crm.customers to {group}")
    try:
        # Independent of the marts: what PostgreSQL itself says the login role can read.
        with engine.connect() as conn:
            expected = conn.execute(
                sa.text(
                    "select has_column_privilege(:r, 'crm.customers', 'email', 'SELECT'),"
                    " has_column_privilege(:r, 'crm.customers', 'first_name', 'SELECT')"
                ),
                {"r": name},
            ).one()
        assert tuple(expected) == (True, False)
        result = dbt_runner.run(["build", "--selector", apply.ACCESS_SELECTOR], access_url)
        assert result.success  # severity warn by default
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "select role_name, column_name, access_kind, members, member_of"
                    " from steward.access_violations order by 1, 2"
                )
            ).all()
        assert [(r.role_name, r.column_name, r.access_kind) for r in rows] == sorted(
            [(group, "email", "granted"), (name, "email", "granted")]
        )
        by_role = {r.role_name: r for r in rows}
        assert by_role[group].members == name
        assert group in by_role[name].member_of
        failing = dbt_runner.run(
            ["build", "--selector", apply.ACCESS_SELECTOR],
            access_url,
            dbt_vars={"steward_access_violation_severity": "error"},
        )
        assert not failing.success
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"drop owned by {group}")
            conn.exec_driver_sql(f"drop role {group}")
        dbt_runner.run(["build", "--selector", apply.ACCESS_SELECTOR], access_url)


def test_the_dashboard_shows_the_governed_views_and_the_review(applied, access_url):
    from steward.dashboard import page

    built = page.build(access_url, static=True)
    section = built.dashboard.section("access")
    assert section.state == "ready"
    metrics = {metric.label: metric.value for metric in section.metrics}
    assert metrics["Governed views"] == "48"
    assert metrics["Policy violations"] == "0"
    assert "steward_analyst" in built.html
