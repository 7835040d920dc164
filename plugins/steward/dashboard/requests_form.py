"""Submitting a data-subject request through Steward: the form page and its logic.

The privacy team's way in from the Airflow UI. The submitted fields go to
``steward.dsar.pipeline.submit`` (validation, then the register), and Steward
starts a ``steward_dsar`` run whose conf is ``{"request_id": N}``: the subject's
identifiers stay in the warehouse's register, out of Airflow's metadata
database, its REST API and its logs.

The page is plain HTML (no script), served by the dashboard app
(``steward.dashboard.app``), which guards it with Airflow's authentication and a
CSRF check (double-submit token plus Origin). Nothing here logs a field value.
"""

from __future__ import annotations

import datetime as dt
import hmac
import html
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from steward.dsar import intake, jurisdictions

log = logging.getLogger(__name__)

CSRF_COOKIE = "steward_csrf"
CSRF_FIELD = "csrf_token"
FORM_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; "
    "base-uri 'none'; form-action 'self'"
)
REQUEST_TYPE_HELP = {
    "access": "a copy of everything held about the subject (encrypted package)",
    "correction": "new values for fields listed under Corrections",
    "deletion": "erasure, except rows under legal hold or a statutory minimum",
}
VERIFICATION_HELP = (
    "verified: processed at once. pending: registered and parked as awaiting verification "
    "until someone runs `steward dsar resume ID --verified`. failed: rejected."
)
# The form's fields in order: name -> (label, help text).
FIELDS: dict[str, tuple[str, str]] = {
    "request_type": ("Request type", "; ".join(f"{k}: {v}" for k, v in REQUEST_TYPE_HELP.items())),
    "jurisdiction": ("Jurisdiction", "The law the request is made under: sets the due date."),
    "received_on": ("Received on", "The day the request reached the organisation."),
    "ticket_reference": (
        "Ticket reference",
        "The privacy team's ticket, 3 to 100 letters, digits or ._/:- . Submitting the same "
        "ticket again changes nothing.",
    ),
    "verification_status": ("Identity verification", VERIFICATION_HELP),
    "verification_method": ("Verification method", "How the identity was checked."),
    "customer_id": ("Customer id", "The CRM's customer number, if known."),
    "email": ("E-mail", "Any e-mail address of the subject (case does not matter)."),
    "phone": ("Phone", "Any phone number, +<country code> for numbers outside the US."),
    "name": ("Name", "Full name, to confirm a match (never searched alone)."),
    "date_of_birth": ("Date of birth", "To confirm a match."),
    "corrections": (
        "Corrections",
        "Correction requests only: one per line, field = new value. Fields: "
        + ", ".join(intake.FIELD_ALIASES),
    ),
}
IDENTIFIER_FIELDS = ("customer_id", "email", "phone", "name", "date_of_birth")


@dataclass
class FormInput:
    """What the form sent: the pipeline's fields, plus problems found while reading them."""

    fields: dict[str, Any]
    problems: list[str] = field(default_factory=list)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(cookie_token: str | None, form_token: str | None) -> bool:
    """The double-submit check: the form's hidden token equals the cookie's."""
    if not cookie_token or not form_token:
        return False
    return hmac.compare_digest(cookie_token.encode(), form_token.encode())


def same_origin(headers: Mapping[str, str], scheme: str) -> bool:
    """True unless the browser says the request came from another site.

    Browsers send ``Origin`` on every POST (``Referer`` as fallback); a request
    from another site names that site. Neither header (a script, curl): allowed,
    since the double-submit token must still match.
    """
    host = headers.get("host", "")
    for header in ("origin", "referer"):
        value = headers.get(header)
        if value:
            if value == "null":
                return False
            expected = f"{scheme}://{host}"
            return value == expected or value.startswith(expected + "/")
    return True


def parse_corrections(text: str) -> tuple[dict[str, str] | None, list[str]]:
    """``field = new value`` lines -> a dict; problems name the line, not its value."""
    corrections: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        separator = "=" if "=" in line else ":" if ":" in line else None
        if separator is None:
            problems.append(f"corrections: line {number}: write field = new value")
            continue
        name, value = (part.strip() for part in line.split(separator, 1))
        if not name:
            problems.append(f"corrections: line {number}: the field name is missing")
            continue
        corrections[name] = value
    return (corrections or None), problems


def form_input(form: Mapping[str, str]) -> FormInput:
    """The form's strings as the pipeline's fields (empty means not given)."""
    values = {name: str(form.get(name, "") or "").strip() for name in FIELDS}
    corrections, problems = parse_corrections(values.pop("corrections"))
    fields: dict[str, Any] = {name: (value or None) for name, value in values.items()}
    fields["corrections"] = corrections
    return FormInput(fields=fields, problems=problems)


def _options(choices: list[str], selected: str, placeholder: str | None = None) -> str:
    rendered = []
    if placeholder is not None:
        rendered.append(
            f'<option value=""{" selected" if not selected else ""} disabled>'
            f"{html.escape(placeholder)}</option>"
        )
    for choice in choices:
        mark = " selected" if choice == selected else ""
        rendered.append(
            f'<option value="{html.escape(choice)}"{mark}>{html.escape(choice)}</option>'
        )
    return "".join(rendered)


def _field_problems(problems: list[str], name: str) -> list[str]:
    prefixes = (f"{name}:", f"{name}.")
    return [problem for problem in problems if problem.startswith(prefixes)]


def _control(name: str, values: Mapping[str, str]) -> str:
    value = values.get(name, "") or ""
    escaped = html.escape(value)
    if name == "request_type":
        return (
            f'<select id="{name}" name="{name}" required>'
            f"{_options(list(jurisdictions.REQUEST_TYPES), value, '- choose -')}</select>"
        )
    if name == "jurisdiction":
        return (
            f'<select id="{name}" name="{name}" required>'
            f"{_options(jurisdictions.jurisdictions(), value, '- choose -')}</select>"
        )
    if name == "verification_status":
        return (
            f'<select id="{name}" name="{name}" required>'
            f"{_options(list(intake.VERIFICATION_STATUSES), value, '- choose -')}</select>"
        )
    if name == "verification_method":
        return (
            f'<select id="{name}" name="{name}">'
            f"{_options(list(intake.VERIFICATION_METHODS), value or 'none')}</select>"
        )
    if name == "corrections":
        return f'<textarea id="{name}" name="{name}" rows="3">{escaped}</textarea>'
    kind = {
        "received_on": 'type="date" required',
        "date_of_birth": 'type="date"',
        "customer_id": 'type="number" min="1" step="1"',
        "email": 'type="email"',
        "phone": 'type="tel"',
        "ticket_reference": 'type="text" required minlength="3" maxlength="100"',
        "name": 'type="text" maxlength="200"',
    }[name]
    return f'<input id="{name}" name="{name}" {kind} value="{escaped}" autocomplete="off">'


STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#1b1f24;max-width:860px}
h1{font-size:1.4em}fieldset{border:1px solid #d0d7de;border-radius:6px;margin:0 0 16px;padding:12px}
legend{font-weight:600}label{display:block;font-weight:600;margin-top:10px}
.help{color:#57606a;font-size:.85em;margin:2px 0 4px}
input,select,textarea{font:inherit;padding:4px 6px;min-width:320px}
.error{color:#b42318;font-size:.9em;margin:2px 0}
.problems{border:1px solid #b42318;background:#fef3f2;padding:8px 16px;border-radius:6px}
.ok{border:1px solid #1a7f37;background:#f0fff4;padding:8px 16px;border-radius:6px}
button{font:inherit;padding:6px 16px;margin-top:12px}table{border-collapse:collapse}
td,th{text-align:left;padding:3px 12px 3px 0;border-bottom:1px solid #eaeef2}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"{body}</body></html>"
    )


def render_form(
    values: Mapping[str, str] | None = None,
    problems: list[str] | None = None,
    *,
    csrf_token: str,
    today: dt.date | None = None,
) -> str:
    """The form; after a refusal, with the submitted values kept and the problems shown."""
    values = dict(values or {})
    values.setdefault("received_on", (today or dt.date.today()).isoformat())
    problems = problems or []
    groups = {
        "Request": (
            "request_type",
            "jurisdiction",
            "received_on",
            "ticket_reference",
            "verification_status",
            "verification_method",
        ),
        "The subject (at least one of customer id, e-mail, phone)": IDENTIFIER_FIELDS,
        "Corrections": ("corrections",),
    }
    parts = [
        "<h1>New data-subject request</h1>",
        "<p>Steward validates the request, registers it with its legal due date and starts "
        "the <code>steward_dsar</code> DAG with the request's number only: the subject's "
        "identifiers stay in Steward's register, never in Airflow. "
        "<a href='../'>Back to the dashboard</a></p>",
    ]
    if problems:
        items = "".join(f"<li>{html.escape(problem)}</li>" for problem in problems)
        parts.append(
            f"<div class='problems' role='alert'><p><b>Not submitted</b>: nothing was "
            f"registered. Please correct:</p><ul>{items}</ul></div>"
        )
    parts.append('<form method="post" action="new" autocomplete="off">')
    parts.append(f'<input type="hidden" name="{CSRF_FIELD}" value="{html.escape(csrf_token)}">')
    for legend, names in groups.items():
        parts.append(f"<fieldset><legend>{html.escape(legend)}</legend>")
        for name in names:
            label, help_text = FIELDS[name]
            parts.append(f'<label for="{name}">{html.escape(label)}</label>')
            parts.append(f'<div class="help">{html.escape(help_text)}</div>')
            parts.append(_control(name, values))
            for problem in _field_problems(problems, name):
                parts.append(f'<div class="error">{html.escape(problem)}</div>')
        parts.append("</fieldset>")
    parts.append('<button type="submit">Submit request</button></form>')
    return _page("New data-subject request - Steward", "".join(parts))


def render_status(summary: Mapping[str, Any], note: str | None = None) -> str:
    """A registered request: status and dates, never an identifier."""
    rows = "".join(
        f"<tr><th>{html.escape(key.replace('_', ' '))}</th>"
        f"<td>{html.escape('' if value is None else str(value))}</td></tr>"
        for key, value in summary.items()
        if key != "result"
    )
    body = [f"<h1>Data-subject request {int(summary['request_id'])}</h1>"]
    if note:
        body.append(f"<div class='ok' role='status'><p>{html.escape(note)}</p></div>")
    body.append(f"<table>{rows}</table>")
    body.append("<p><a href='new'>Submit another request</a> · <a href='../'>Dashboard</a></p>")
    return _page(f"Request {int(summary['request_id'])} - Steward", "".join(body))


def render_refused(message: str) -> str:
    return _page(
        "Steward",
        f"<h1>Not submitted</h1><p>{html.escape(message)}</p>"
        "<p><a href='new'>Open the form again</a></p>",
    )


@dataclass(frozen=True)
class Outcome:
    """A submission's result, safe to show and log (no identifier)."""

    request_id: int
    created: bool
    status: str
    due_on: str | None
    dag_run_id: str | None
    note: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "created": self.created,
            "status": self.status,
            "due_on": self.due_on,
            "dag_run_id": self.dag_run_id,
            "note": self.note,
        }


def submit(fields: dict[str, Any], *, user_name: str, via: str) -> Outcome:
    """Validate and register (as ``airflow:<user>``), then start the request's DAG run.

    Raises :class:`steward.dsar.intake.IntakeError` when the request is invalid
    (nothing registered). A ticket already registered starts no second run.
    """
    from steward.airflow import runs
    from steward.dsar import pipeline

    submitted = pipeline.submit(fields, actor=f"airflow:{user_name}")
    request_id = int(submitted["request_id"])
    due_on = submitted.get("due_on")
    if not submitted["created"]:
        return Outcome(
            request_id,
            False,
            submitted["status"],
            str(due_on) if due_on else None,
            None,
            f"This ticket is already registered as request {request_id}; nothing new was started.",
        )
    try:
        run_id = runs.trigger_request_run(request_id, user_name=user_name, via=via)
    except runs.TriggerError as exc:
        log.warning("request %s registered, its DAG run not started: %s", request_id, exc)
        return Outcome(
            request_id,
            True,
            submitted["status"],
            str(due_on) if due_on else None,
            None,
            f"Registered as request {request_id}, but no run was started ({exc}). Trigger "
            f"steward_dsar with request_id {request_id}, or run `steward dsar run "
            f"{request_id}`.",
        )
    log.info("request %s registered by %s; DAG run %s", request_id, user_name, run_id)
    note = f"Registered as request {request_id} and started as run {run_id} of steward_dsar."
    if runs.dag_is_paused():
        note += " steward_dsar is paused in Airflow: the run waits until someone unpauses it."
    return Outcome(
        request_id, True, submitted["status"], str(due_on) if due_on else None, run_id, note
    )
