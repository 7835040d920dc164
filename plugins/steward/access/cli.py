"""``steward access``: the role policy, the governed views and the access review."""

from __future__ import annotations

import json

import typer

access_app = typer.Typer(help="Role-based access to personal data: governed views, access review.")


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@access_app.command("policy")
def policy_command(as_json: bool = typer.Option(False, "--json", help="JSON output.")) -> None:
    """Validate the role policy and show it (no database needed)."""
    from steward.access.policy import AccessPolicyError, load_policy

    try:
        policy = load_policy()
    except AccessPolicyError as exc:
        _fail(str(exc), code=2)
    if as_json:
        typer.echo(json.dumps(policy.to_dict(), indent=2))
        return
    typer.echo(f"access policy OK: {policy.path} (sha256 {policy.sha256[:12]})")
    for role in policy.roles:
        listed = ", ".join(f"{c} {t}" for c, t in sorted(role.categories.items()))
        typer.echo(
            f"  {role.name} -> {role.database_role}: default {role.default}, "
            f"undeclared {role.undeclared}" + (f"; {listed}" if listed else "")
        )


@access_app.command("apply")
def apply_command() -> None:
    """Validate and load the policy, create the roles, re-generate the governed views."""
    from steward.access import apply
    from steward.access.policy import AccessPolicyError

    try:
        summary = apply.apply_policy()
    except AccessPolicyError as exc:
        _fail(str(exc), code=2)
    except apply.AccessApplyError as exc:
        _fail(str(exc))
    _print_summary(summary)


@access_app.command("review")
def review_command(
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
    fail_on_violations: bool = typer.Option(
        False, help="Exit 1 when the review found a role reading personal data against policy."
    ),
) -> None:
    """The latest access review (built nightly, or by `steward access apply`)."""
    from steward.access import apply

    summary = apply.summarise()
    if not summary.get("available"):
        _fail("no access review yet: run `steward access apply`", code=3)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        _print_summary(summary)
    if fail_on_violations and summary["violations"]:
        raise typer.Exit(1)


def _print_summary(summary: dict) -> None:
    typer.echo(f"governed views: {summary['views']}")
    for role in summary["roles"]:
        typer.echo(
            f"  {role['database_role']}: {role['views']} views; personal columns "
            f"{role['full_columns']} full, {role['masked_columns']} masked, "
            f"{role['hashed_columns']} hashed, {role['hidden_columns']} hidden"
        )
    for column in summary["undeclared_columns"]:
        typer.echo(f"  undeclared, hidden until declared: {column}")
    typer.echo(
        f"access review: {summary['roles_reading_directly']} roles can read "
        f"{summary['personal_columns_read']} personal columns of source tables directly; "
        f"{summary['violations']} violations by {summary['roles_in_violation']} roles"
    )
    for row in summary["violating_roles"]:
        typer.echo(f"  violation: {row['role_name']} ({row['access_kind']}): {row['columns']}")
