"""``steward retention``: plan, run (dry by default) and approve retention."""

from __future__ import annotations

import datetime as dt
import getpass
import json

import typer

retention_app = typer.Typer(
    help="Retention: delete or anonymise what is past its retention period, with an audit trail."
)
# A module-level singleton: a list default must not be built per call (ruff B008).
POLICY_OPTION = typer.Option(None, "--policy", help="Table or rule name (repeatable).")


def _print_summary(summary: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    mode = "APPLIED" if summary["mode"] == "apply" else "DRY RUN (nothing changed)"
    typer.echo(f"retention {mode}  run {summary['run_id']}  as of {summary['as_of']}")
    typer.echo(
        f"{'policy':30} {'action':11} {'status':19} {'due':>8} {'held':>6} "
        f"{'deleted':>8} {'anonym.':>8} {'files':>6} {'share':>6}"
    )
    for row in summary["policies"]:
        typer.echo(
            f"{row['policy']:30} {row['action']:11} {row['status']:19} {row['due']:>8,} "
            f"{row['held_back']:>6,} {row['deleted']:>8,} {row['anonymised']:>8,} "
            f"{row['files_removed']:>6,} {row['due_share']:>6.1%}"
        )
    if summary["stopped_by_breaker"]:
        typer.echo(
            "stopped by the circuit breaker (approve with `steward retention approve POLICY`): "
            + ", ".join(summary["stopped_by_breaker"])
        )
    if summary.get("verification"):
        typer.echo(f"verification: {summary['verification']}")


def _as_of(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@retention_app.command("policies")
def show_policies(as_json: bool = typer.Option(False, "--json", help="JSON output.")) -> None:
    """Validate and list the retention policies (no database needed)."""
    from steward.retention.policies import PolicyError, load_policies

    try:
        policy_set = load_policies()
    except PolicyError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    rows = [policy.to_dict() for policy in policy_set.policies]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        typer.echo(
            f"{row['policy']:30} {row['rule']:24} {row['action']:11} {row['period']:>9} "
            f"({row['period_reason']}) clock {row['clock']}"
        )


@retention_app.command("plan")
def plan(
    policy: list[str] = POLICY_OPTION,
    max_share: float | None = typer.Option(None, help="Circuit breaker share (default: policy)."),
    as_of: str | None = typer.Option(None, help="ISO date/time to plan for (default: now)."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """What a run would do: due rows, held back, breaker stops. Changes nothing."""
    from steward.retention.nightly import run

    _print_summary(
        run(apply=False, max_share=max_share, policies=policy, as_of=_as_of(as_of)), as_json
    )


@retention_app.command("run")
def run_command(
    apply: bool = typer.Option(False, "--apply", help="Change data (default: dry run)."),
    policy: list[str] = POLICY_OPTION,
    max_share: float | None = typer.Option(None, help="Circuit breaker share (default: policy)."),
    batch_size: int | None = typer.Option(None, help="Rows per batch (default: policy)."),
    as_of: str | None = typer.Option(None, help="ISO date/time to run for (default: now)."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Run retention: a dry run unless --apply; an interrupted applied run resumes."""
    from steward.retention.nightly import run

    summary = run(
        apply=apply,
        max_share=max_share,
        policies=policy,
        as_of=_as_of(as_of),
        batch_size=batch_size,
    )
    _print_summary(summary, as_json)
    verification = summary.get("verification")
    if verification and not verification["passed"]:
        raise typer.Exit(1)


@retention_app.command("approve")
def approve_command(
    policy: str = typer.Argument(..., help="The stopped policy (table or rule name)."),
    approved_by: str = typer.Option(None, help="Who approves (default: the OS user)."),
) -> None:
    """Approve a policy the circuit breaker stopped, for its next applied run."""
    from steward.retention.executor import approve
    from steward.retention.policies import PolicyError

    try:
        result = approve(policy, approved_by or getpass.getuser())
    except PolicyError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    for row in result["approved"]:
        typer.echo(f"approved {row['policy']} up to {row['approved_due_rows']:,} rows")
