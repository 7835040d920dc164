"""``steward breach``: register, assess and follow a personal-data breach (counts only)."""

from __future__ import annotations

import datetime as dt
import json

import typer

breach_app = typer.Typer(help="Personal-data breaches: impact, deadlines, notification list.")
TABLE_OPTION = typer.Option(
    None, "--table", "--column", help="schema.table or schema.table.column exposed (repeat)."
)


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _time(value: str | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        _fail(f"--{name}: {value!r} is not an ISO 8601 time", code=2)
    if parsed.tzinfo is None:
        _fail(f"--{name}: give a time zone, e.g. {value}+00:00", code=2)
    return parsed


@breach_app.command("assess")
def assess_command(
    incident: int | None = typer.Option(None, help="Re-assess this registered incident."),
    reference: str | None = typer.Option(None, help="Your ticket reference (no personal data)."),
    summary: str | None = typer.Option(None, help="What happened, without personal data."),
    aware_at: str | None = typer.Option(
        None, help="When the organisation became aware (ISO 8601 with zone); default now."
    ),
    table: list[str] | None = TABLE_OPTION,
    role: str | None = typer.Option(None, help="A compromised database role."),
    window_from: str | None = typer.Option(None, "--from", help="Access window start (ISO 8601)."),
    window_to: str | None = typer.Option(None, "--to", help="Access window end (ISO 8601)."),
    encrypted: bool = typer.Option(False, help="What was taken was encrypted, the key was not."),
    hipaa: bool = typer.Option(False, help="PHI held as a HIPAA covered entity or associate."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Register an incident and compute its impact and notification deadlines."""
    from steward import warehouse
    from steward.breach import assess, register
    from steward.breach.exposure import Exposure, ExposureError

    try:
        if incident is not None:
            result = assess.assess(warehouse.engine(), incident)
        else:
            if not reference or not summary:
                _fail("give --reference and --summary (or --incident to re-assess)", code=2)
            exposure = Exposure(
                columns=list(table or []),
                role=role,
                window_from=_time(window_from, "from"),
                window_to=_time(window_to, "to"),
                protection="encrypted" if encrypted else "none",
            )
            result = assess.assess_new(
                reference=reference,
                summary_text=summary,
                aware_at=_time(aware_at, "aware-at") or dt.datetime.now(dt.UTC),
                exposure=exposure,
                hipaa=hipaa,
            )
    except (ExposureError, register.IncidentError) as exc:
        _fail(str(exc), code=2)
    _print(result, as_json)


@breach_app.command("status")
def status_command(
    incident: int = typer.Argument(..., help="Incident id."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """An incident's impact and deadlines, with the clock running."""
    from steward import warehouse
    from steward.breach import assess, register

    try:
        _print(assess.summary(warehouse.engine(), incident), as_json)
    except register.IncidentError as exc:
        _fail(str(exc), code=2)


@breach_app.command("list")
def list_command(
    all_incidents: bool = typer.Option(False, "--all", help="Closed ones too."),
) -> None:
    """Incidents, open ones first, with their next deadline."""
    import sqlalchemy as sa

    from steward import schema, warehouse

    engine = warehouse.engine()
    schema.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select i.incident_id, i.reference, i.status, i.affected_subjects,"
                " min(n.due_at) filter (where n.is_required and n.notified_at is null) as next_due"
                " from steward.breach_incidents as i left join steward.breach_notifications as n"
                " using (incident_id)"
                " where :all or i.status in ('open', 'assessed', 'notifying')"
                " group by 1, 2, 3, 4 order by next_due nulls last, 1"
            ),
            {"all": all_incidents},
        ).all()
    if not rows:
        typer.echo("no incidents")
    for row in rows:
        due = row.next_due.isoformat(timespec="minutes") if row.next_due else "-"
        typer.echo(
            f"{row.incident_id:>4}  {row.reference:20}  {row.status:10}  "
            f"{row.affected_subjects if row.affected_subjects is not None else '-':>8} affected"
            f"  next deadline {due}"
        )


@breach_app.command("notify")
def notify_command(
    incident: int = typer.Argument(...),
    law: str = typer.Option(..., help="Law code, e.g. GDPR, US_CA."),
    recipient: str = typer.Option(..., help="e.g. supervisory_authority, individuals."),
) -> None:
    """Record a required notice as given (the incident becomes notified after the last)."""
    from steward import warehouse
    from steward.breach import register

    try:
        result = register.mark_notified(warehouse.engine(), incident, law, recipient)
    except register.IncidentError as exc:
        _fail(str(exc), code=2)
    typer.echo(f"recorded; {result['pending_required_notices']} required notices still pending")


@breach_app.command("dismiss")
def dismiss_command(
    incident: int = typer.Argument(...),
    reason: str = typer.Option(..., help="Why this is not a notifiable breach."),
) -> None:
    """Close an incident as not notifiable (documented, GDPR art. 33(5))."""
    _change(incident, "dismissed", reason)


@breach_app.command("close")
def close_command(incident: int = typer.Argument(...)) -> None:
    """Close a notified incident."""
    _change(incident, "closed", None)


def _change(incident: int, target: str, reason: str | None) -> None:
    from steward import warehouse
    from steward.breach import register

    try:
        register.change_status(warehouse.engine(), incident, target, reason=reason)
    except register.IncidentError as exc:
        _fail(str(exc), code=2)
    typer.echo(f"incident {incident}: {target}")


@breach_app.command("export")
def export_command(incident: int = typer.Argument(...)) -> None:
    """Write the encrypted notification list (who must be told, with contact details)."""
    from steward import warehouse
    from steward.breach import export, register
    from steward.dsar.export import ExportKeyError

    try:
        result = export.build_notification_list(warehouse.engine(), incident)
    except (register.IncidentError, ExportKeyError) as exc:
        _fail(str(exc), code=2)
    typer.echo(f"{result['rows']} people to notify: {result['path']} (sha256 {result['sha256']})")


@breach_app.command("rules")
def rules_command() -> None:
    """Validate and list the notification rules (dbt seed breach_notification_rules)."""
    from steward.breach import rules

    try:
        loaded = rules.load_rules()
    except rules.BreachRulesError as exc:
        _fail(str(exc), code=2)
    for rule in loaded:
        typer.echo(f"{rule.key:45} {rule.deadline_text():45} {rule.citation}")


def _print(result: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    typer.echo(
        f"incident {result['incident_id']} ({result['reference']}): {result['status']}, "
        f"aware since {result['aware_at']}"
    )
    kinds = ", ".join(f"{n} {kind}s" for kind, n in result["subjects_by_kind"].items())
    typer.echo(f"affected: {result['affected_subjects'] or 0} people ({kinds or 'none'})")
    top = result["by_jurisdiction"][:12]
    if top:
        rest = len(result["by_jurisdiction"]) - len(top)
        typer.echo(
            "by jurisdiction: "
            + ", ".join(f"{j['jurisdiction']} {j['subjects']}" for j in top)
            + (f", and {rest} more" if rest > 0 else "")
        )
    for category in result["by_category"]:
        typer.echo(
            f"  {category['data_category']}: {category['subjects']} "
            f"({category['unprotected_subjects']} unprotected)"
        )
    required = [n for n in result["notifications"] if n["is_required"]]
    typer.echo(f"required notices: {len(required)}")
    for notice in required:
        if notice["notified_at"]:
            clock = f"given {notice['notified_at']}"
        elif notice["due_at"]:
            clock = f"due {notice['due_at']} ({notice['hours_left']} h left)"
        else:
            clock = notice["deadline_text"]
        typer.echo(
            f"  {notice['law_code']:8} {notice['recipient']:26} {notice['affected']:>6} people  "
            f"{clock}  [{notice['citation']}]"
        )
