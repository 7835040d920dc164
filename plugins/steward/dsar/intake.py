"""Intake: a data-subject request as the privacy team submits it, checked in full.

:func:`validate_request` is pure (no database): it takes the submitted fields
(the DAG's trigger form, the CLI, a row of the bulk table) and returns a
:class:`DsarRequest` with normalised identifiers, or raises
:class:`IntakeError` listing every problem. Messages name the field, never echo
a submitted identifier (logs must not carry personal data).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import phonenumbers

from steward.dsar import jurisdictions

VERIFICATION_STATUSES: tuple[str, ...] = ("verified", "pending", "failed")
VERIFICATION_METHODS: tuple[str, ...] = (
    "account_login",
    "knowledge_based",
    "id_document",
    "email_confirmation",
    "phone_callback",
    "authorised_agent",
    "none",
)
DEFAULT_PHONE_REGION = "US"
MAX_TEXT = 200
MAX_EMAIL = 254  # RFC 5321
MAX_PHONE = 50
# Longest value per data category; a value that does not fit is refused, not cut.
MAX_LENGTH: dict[str, int] = {
    "user.name.first": 100,
    "user.name.last": 100,
    "user.name": MAX_TEXT,
    "user.contact.address.street": MAX_TEXT,
    "user.contact.address.city": 100,
    "user.contact.address.postal_code": 12,
}
# What a value of a category may hold. Names: letters (any script), combining marks,
# spaces, apostrophes, hyphens, full stops and commas: "O'Brien", "Jean-Luc", "Smith, Jr.".
# SQL or markup punctuation (; = ( ) " < > \ -- /* */) fits no name and is refused.
_NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|[\u0300-\u036f' \u2019.,-])*$")
_NAME_DOUBLE_PUNCTUATION = re.compile(r"--|''|\.\.|,,")
_STREET = re.compile(r"^[\w][\w '\u2019.,#/-]*$")
_CITY = re.compile(r"^[^\W\d_](?:[^\W\d_]|[\u0300-\u036f' \u2019.-])*$")
_POSTAL_CODE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9 -]*[A-Za-z0-9])?$")
CATEGORY_RULES: dict[str, tuple[re.Pattern, str]] = {
    "user.name.first": (_NAME, "letters, spaces, apostrophes, hyphens and full stops"),
    "user.name.last": (_NAME, "letters, spaces, apostrophes, hyphens and full stops"),
    "user.name": (_NAME, "letters, spaces, apostrophes, hyphens, full stops and commas"),
    "user.contact.address.street": (
        _STREET,
        "letters, digits, spaces and . , ' # / -",
    ),
    "user.contact.address.city": (_CITY, "letters, spaces, apostrophes, hyphens, full stops"),
    "user.contact.address.postal_code": (_POSTAL_CODE, "letters, digits, spaces and hyphens"),
}
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_TICKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:-]{2,99}$")

# Short names a privacy officer types for a correctable field -> its data category.
FIELD_ALIASES: dict[str, str] = {
    "email": "user.contact.email",
    "phone": "user.contact.phone_number",
    "first_name": "user.name.first",
    "last_name": "user.name.last",
    "name": "user.name",
    "date_of_birth": "user.demographic.date_of_birth",
    "gender": "user.demographic.gender",
    "street": "user.contact.address.street",
    "city": "user.contact.address.city",
    "postal_code": "user.contact.address.postal_code",
}
# Categories a correction may change: free text and recordings are not "fields".
CORRECTABLE_CATEGORIES: frozenset[str] = frozenset(FIELD_ALIASES.values())


class IntakeError(ValueError):
    """The request is invalid; ``problems`` lists what is wrong, field by field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid request: " + "; ".join(self.problems))


@dataclass(frozen=True)
class DsarRequest:
    """A validated request. Identifiers are normalised (e-mail lower case, phone E.164)."""

    request_type: str
    jurisdiction: str
    received_on: dt.date
    ticket_reference: str
    verification_status: str
    verification_method: str
    customer_id: int | None = None
    email: str | None = None
    phone: str | None = None  # E.164
    full_name: str | None = None
    date_of_birth: dt.date | None = None
    corrections: dict[str, str] = field(default_factory=dict)  # data category -> new value

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["received_on"] = self.received_on.isoformat()
        values["date_of_birth"] = self.date_of_birth.isoformat() if self.date_of_birth else None
        return values

    @property
    def has_identifier(self) -> bool:
        return any(value is not None for value in (self.customer_id, self.email, self.phone))

    @classmethod
    def from_register_row(cls, row: dict[str, Any]) -> DsarRequest:
        """The request as ``steward.dsar_requests`` holds it (already validated)."""
        return cls(
            request_type=row["request_type"],
            jurisdiction=row["jurisdiction"],
            received_on=row["received_on"],
            ticket_reference=row["ticket_reference"],
            verification_status=row["verification_status"],
            verification_method=row["verification_method"],
            customer_id=row["customer_id"],
            email=row["email"],
            phone=row["phone"],
            full_name=row["full_name"],
            date_of_birth=row["date_of_birth"],
            corrections=row["corrections"] or {},
        )


def has_control_characters(text: str) -> bool:
    """NUL, other C0/C1 controls, or invisible format characters (bidi overrides)."""
    return any(unicodedata.category(char) in ("Cc", "Cf") for char in text)


def category_problem(category: str, text: str) -> str | None:
    """Why ``text`` does not fit a value of ``category`` (None when it fits)."""
    if has_control_characters(text):
        return "holds control characters"
    limit = MAX_LENGTH.get(category, MAX_TEXT)
    if len(text) > limit:
        return f"longer than {limit} characters"
    rule = CATEGORY_RULES.get(category)
    if rule is not None:
        pattern, allowed = rule
        if not pattern.match(text) or (
            category.startswith("user.name") and _NAME_DOUBLE_PUNCTUATION.search(text)
        ):
            return f"may hold only {allowed}"
    return None


def normalise_email(value: str) -> str | None:
    """The lower-cased address when it is syntactically valid, else None."""
    text = value.strip()
    if len(text) > MAX_EMAIL or not _EMAIL.match(text):
        return None
    return text.lower()


def normalise_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> str | None:
    """E.164 when ``value`` is a valid number (national spellings read in ``region``)."""
    text = value.strip()
    if not text or len(text) > MAX_PHONE or has_control_characters(text):
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


def validate_correction_value(category: str, value: Any) -> tuple[str | None, str | None]:
    """(normalised value, problem) for a correction's new value."""
    if not isinstance(value, str) or not value.strip():
        return None, "must be a non-empty text"
    text = value.strip()
    if has_control_characters(text):
        return None, "holds control characters"
    if len(text) > MAX_TEXT:
        return None, f"longer than {MAX_TEXT} characters"
    if category == "user.contact.email":
        normalised = normalise_email(text)
        return (normalised, None) if normalised else (None, "is not a valid e-mail address")
    if category == "user.contact.phone_number":
        normalised = normalise_phone(text)
        return (normalised, None) if normalised else (None, "is not a valid phone number")
    if category == "user.demographic.date_of_birth":
        try:
            born = dt.date.fromisoformat(text)
        except ValueError:
            return None, "is not a date (YYYY-MM-DD)"
        if born > dt.date.today() or born.year < 1900:
            return None, "is not a plausible date of birth"
        return born.isoformat(), None
    if category == "user.demographic.gender":
        return (text, None) if text in ("F", "M", "X") else (None, "must be F, M or X")
    if category.startswith("user.name") and any(char.isdigit() for char in text):
        return None, "a name holds no digits"
    problem = category_problem(category, text)
    if problem:
        return None, problem
    return text, None


def validate_request(
    fields: Mapping[str, Any],
    *,
    correctable_categories: frozenset[str] | None = None,
    today: dt.date | None = None,
) -> DsarRequest:
    """Check every submitted field; return the request or raise :class:`IntakeError`.

    ``correctable_categories``: data categories the data map holds (a correction
    of a field no table has is rejected); default: every correctable category.
    """
    problems: list[str] = []
    today = today or dt.date.today()
    # NUL and other control characters are refused in every field (the register,
    # the logs and PostgreSQL itself cannot hold them safely); values are not echoed.
    for name, value in fields.items():
        if isinstance(value, str) and has_control_characters(value):
            problems.append(f"{name}: holds control characters")
        elif isinstance(value, str) and len(value) > 1_000:
            problems.append(f"{name}: longer than 1000 characters")
    if problems:
        raise IntakeError(problems)
    request_type = str(fields.get("request_type") or "").strip()
    if request_type not in jurisdictions.REQUEST_TYPES:
        problems.append(f"request_type: must be one of {', '.join(jurisdictions.REQUEST_TYPES)}")
    jurisdiction = str(fields.get("jurisdiction") or "").strip().upper()
    known = jurisdictions.jurisdictions()
    if jurisdiction not in known:
        problems.append(f"jurisdiction: unknown (known: {', '.join(known)})")
    elif request_type in jurisdictions.REQUEST_TYPES:
        granted = jurisdictions.granted_types(jurisdiction)
        if request_type not in granted:
            problems.append(
                f"request_type: {jurisdiction} does not grant a {request_type} right "
                f"(it grants: {', '.join(granted)})"
            )

    received_on = None
    try:
        received_on = _date(fields.get("received_on"))
        if received_on is None:
            problems.append("received_on: missing")
        elif received_on > today:
            problems.append("received_on: in the future")
    except ValueError:
        problems.append("received_on: not a date (YYYY-MM-DD)")

    ticket = str(fields.get("ticket_reference") or "").strip()
    if not _TICKET.match(ticket):
        problems.append(
            "ticket_reference: 3-100 characters, letters, digits and . _ / : - "
            "(the idempotency key of the request)"
        )

    verification_status = str(fields.get("verification_status") or "pending").strip()
    if verification_status not in VERIFICATION_STATUSES:
        problems.append(f"verification_status: must be one of {', '.join(VERIFICATION_STATUSES)}")
    verification_method = str(fields.get("verification_method") or "none").strip()
    if verification_method not in VERIFICATION_METHODS:
        problems.append(f"verification_method: must be one of {', '.join(VERIFICATION_METHODS)}")
    if verification_status == "verified" and verification_method == "none":
        problems.append("verification_method: a verified identity needs the method used")

    customer_id = None
    raw_customer = fields.get("customer_id")
    if raw_customer not in (None, ""):
        try:
            if isinstance(raw_customer, bool) or float(str(raw_customer)) != int(str(raw_customer)):
                raise ValueError
            customer_id = int(str(raw_customer))
            if customer_id <= 0:
                raise ValueError
        except ValueError:
            problems.append("customer_id: must be a positive whole number")

    email = None
    raw_email = fields.get("email")
    if raw_email not in (None, ""):
        email = normalise_email(str(raw_email))
        if email is None:
            problems.append("email: not a valid e-mail address")

    phone = None
    raw_phone = fields.get("phone")
    if raw_phone not in (None, ""):
        phone = normalise_phone(str(raw_phone))
        if phone is None:
            problems.append("phone: not a valid phone number (use +<country code> for non-US)")

    full_name = str(fields.get("name") or fields.get("full_name") or "").strip() or None
    if full_name and any(char.isdigit() for char in full_name):
        problems.append("name: not a plausible name (a name holds no digits)")
    elif full_name:
        problem = category_problem("user.name", full_name)
        if problem:
            problems.append(f"name: {problem}")
    date_of_birth = None
    try:
        date_of_birth = _date(fields.get("date_of_birth"))
        if date_of_birth and (date_of_birth > today or date_of_birth.year < 1900):
            problems.append("date_of_birth: not plausible")
    except ValueError:
        problems.append("date_of_birth: not a date (YYYY-MM-DD)")

    if (
        customer_id is None
        and email is None
        and phone is None
        and not any(p.startswith(("customer_id", "email", "phone")) for p in problems)
    ):
        problems.append("identifiers: give at least one of customer_id, email, phone")

    corrections = _validate_corrections(
        request_type, fields.get("corrections"), correctable_categories, problems
    )
    if problems:
        raise IntakeError(problems)
    assert received_on is not None
    return DsarRequest(
        request_type=request_type,
        jurisdiction=jurisdiction,
        received_on=received_on,
        ticket_reference=ticket,
        verification_status=verification_status,
        verification_method=verification_method,
        customer_id=customer_id,
        email=email,
        phone=phone,
        full_name=full_name,
        date_of_birth=date_of_birth,
        corrections=corrections,
    )


def _validate_corrections(
    request_type: str,
    raw: Any,
    correctable_categories: frozenset[str] | None,
    problems: list[str],
) -> dict[str, str]:
    if raw in (None, "", {}):
        if request_type == "correction":
            problems.append("corrections: a correction request needs field/new-value pairs")
        return {}
    if request_type != "correction":
        problems.append("corrections: only a correction request carries corrections")
        return {}
    if not isinstance(raw, Mapping):
        problems.append("corrections: must be an object of field -> new value")
        return {}
    allowed = CORRECTABLE_CATEGORIES & (
        correctable_categories if correctable_categories is not None else CORRECTABLE_CATEGORIES
    )
    corrections: dict[str, str] = {}
    field_names = ", ".join(sorted(k for k, v in FIELD_ALIASES.items() if v in allowed))
    for name, value in raw.items():
        if has_control_characters(str(name)) or len(str(name)) > 100:
            problems.append("corrections: a field name holds control characters or is too long")
            continue
        category = FIELD_ALIASES.get(str(name), str(name))
        if category not in allowed:
            problems.append(
                f"corrections.{name}: no such correctable field in the data map "
                f"(fields: {field_names})"
            )
            continue
        normalised, problem = validate_correction_value(category, value)
        if problem:
            problems.append(f"corrections.{name}: new value {problem}")
        elif normalised is not None:
            corrections[category] = normalised
    return corrections


def correctable_categories_of(data_map) -> frozenset[str]:
    """The correctable data categories some table of the data map holds."""
    return frozenset(
        column.data_category
        for table, column in data_map.personal_columns()
        if table.subject in ("customer", "prospect")
    )
