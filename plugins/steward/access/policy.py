"""The role policy: one YAML file saying which role sees which data category how.

:func:`load_policy` validates the whole file and raises :class:`AccessPolicyError`
naming every problem; nothing is loaded or changed before it passes. The policy
is resolved here, once, for every category of the taxonomy (the data map's and
the catalogue's), so the SQL that builds the views only joins on exact
categories: the longest matching prefix of a category wins, else the role's
``default``.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from steward import datamap, yamlfile
from steward.catalogue import categories as catalogue_categories

POLICY_ENV = "STEWARD_ACCESS_POLICY"
DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.yml")
TREATMENTS: tuple[str, ...] = ("full", "masked", "hashed", "hidden")
# How `masked` shows a category (the longest matching prefix wins); the SQL of
# each mask is the dbt macro `governed_mask`. A category without a mask cannot
# be `masked`: the policy must say hashed or hidden instead.
MASKS: dict[str, str] = {
    "user.contact.phone_number": "last_4_digits",
    "user.financial.card_number": "last_4_digits",
    "user.financial.bank_account": "last_4_digits",
    "user.government_id": "last_4_digits",
    "user.contact.email": "email_domain",
    "user.demographic.date_of_birth": "year_of_birth",
}
FILE_KEYS = frozenset({"roles", "direct_access"})
ROLE_KEYS = frozenset({"database_role", "description", "default", "undeclared", "categories"})
DIRECT_KEYS = frozenset({"superusers", "allowed_roles"})
ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
DATABASE_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class AccessPolicyError(ValueError):
    """The policy file is invalid; ``problems`` names each offending entry."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        heading = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        super().__init__(f"access policy: {heading}:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class RolePolicy:
    name: str  # short name, the views' prefix: analyst -> governed.analyst__crm__customers
    database_role: str
    description: str
    default: str
    undeclared: str
    categories: dict[str, str] = field(default_factory=dict)

    def treatment(self, category: str) -> str:
        """The treatment of ``category``: the longest listed prefix, else the default."""
        return _longest_prefix(self.categories, category) or self.default


@dataclass(frozen=True)
class AccessPolicy:
    roles: tuple[RolePolicy, ...]
    superusers_allowed: bool
    allowed_direct_roles: tuple[str, ...]
    path: Path
    sha256: str

    def role(self, name: str) -> RolePolicy:
        for role in self.roles:
            if name in (role.name, role.database_role):
                return role
        raise KeyError(f"no role {name!r} in the access policy")

    def resolved(self) -> list[dict[str, Any]]:
        """One row per role and known category: its treatment and (if masked) mask."""
        rows = []
        for role in self.roles:
            for category in sorted(known_categories()):
                treatment = role.treatment(category)
                rows.append(
                    {
                        "role_name": role.name,
                        "database_role": role.database_role,
                        "data_category": category,
                        "treatment": treatment,
                        "mask": mask_for(category) if treatment == "masked" else None,
                    }
                )
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "roles": [
                {
                    "name": role.name,
                    "database_role": role.database_role,
                    "description": role.description,
                    "default": role.default,
                    "undeclared": role.undeclared,
                    "categories": dict(role.categories),
                }
                for role in self.roles
            ],
            "direct_access": {
                "superusers": "allow" if self.superusers_allowed else "deny",
                "allowed_roles": list(self.allowed_direct_roles),
            },
        }


def known_categories() -> frozenset[str]:
    return frozenset(datamap.TAXONOMY) | frozenset(catalogue_categories.ALL)


def _longest_prefix(mapping: dict[str, str], category: str) -> str | None:
    best = None
    for prefix, value in mapping.items():
        if (category == prefix or category.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best[0])
        ):
            best = (prefix, value)
    return best[1] if best else None


def mask_for(category: str) -> str | None:
    return _longest_prefix(MASKS, category)


def policy_path() -> Path:
    configured = os.environ.get(POLICY_ENV)
    return Path(configured).resolve() if configured else DEFAULT_POLICY_FILE


def load_policy(path: Path | None = None) -> AccessPolicy:
    """Read and validate the policy file; raise :class:`AccessPolicyError` on any problem."""
    path = Path(path or policy_path())
    problems: list[str] = []
    try:
        text = path.read_text()
    except OSError as exc:
        raise AccessPolicyError([f"{path}: cannot be read ({exc.strerror or exc})"]) from exc
    try:
        document = yamlfile.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise AccessPolicyError([f"{path.name}: invalid YAML{at}"]) from exc
    if not isinstance(document, dict):
        raise AccessPolicyError([f"{path.name}: expected a mapping with `roles`"])
    for key in sorted(set(document) - FILE_KEYS):
        problems.append(f"{key}: unknown key (expected one of {', '.join(sorted(FILE_KEYS))})")
    roles = _roles(document.get("roles"), problems)
    superusers, allowed = _direct_access(document.get("direct_access"), roles, problems)
    if problems:
        raise AccessPolicyError(problems)
    return AccessPolicy(
        roles=tuple(roles),
        superusers_allowed=superusers,
        allowed_direct_roles=tuple(allowed),
        path=path,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


def _roles(entries: Any, problems: list[str]) -> list[RolePolicy]:
    if not isinstance(entries, dict) or not entries:
        problems.append("roles: expected a mapping of role name -> settings, with at least one")
        return []
    roles: list[RolePolicy] = []
    seen_database_roles: set[str] = set()
    known = known_categories()
    for name, settings in entries.items():
        where = f"roles.{name}"
        if not isinstance(name, str) or not ROLE_NAME.match(name):
            problems.append(f"{where}: a role name is lower case letters, digits and _")
            continue
        if not isinstance(settings, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        for key in sorted(set(settings) - ROLE_KEYS):
            problems.append(f"{where}.{key}: unknown key")
        database_role = settings.get("database_role")
        if not isinstance(database_role, str) or not DATABASE_ROLE.match(database_role):
            problems.append(
                f"{where}.database_role: required, a PostgreSQL role name "
                "(lower case letters, digits and _)"
            )
            database_role = None
        elif database_role.startswith("pg_"):
            problems.append(f"{where}.database_role: {database_role!r} is reserved by PostgreSQL")
        elif database_role in seen_database_roles:
            problems.append(f"{where}.database_role: {database_role!r} is used by another role")
        else:
            seen_database_roles.add(database_role)
        default = _treatment(settings.get("default", "hidden"), f"{where}.default", problems)
        undeclared = _treatment(
            settings.get("undeclared", "hidden"), f"{where}.undeclared", problems
        )
        if undeclared == "masked":
            problems.append(f"{where}.undeclared: an undeclared column has no known mask")
        categories: dict[str, str] = {}
        listed = settings.get("categories") or {}
        if not isinstance(listed, dict):
            problems.append(f"{where}.categories: expected a mapping of category -> treatment")
            listed = {}
        for category, treatment in listed.items():
            key = f"{where}.categories.{category}"
            if not isinstance(category, str) or not any(
                known_category == category or known_category.startswith(category + ".")
                for known_category in known
            ):
                problems.append(f"{key}: not a data category of the taxonomy, nor a prefix of one")
                continue
            checked = _treatment(treatment, key, problems)
            if checked == "masked":
                unmasked = sorted(
                    c
                    for c in known
                    if (c == category or c.startswith(category + ".")) and mask_for(c) is None
                )
                if unmasked:
                    problems.append(
                        f"{key}: masked, but {', '.join(unmasked)} has no mask "
                        "(use hashed or hidden, or list its categories one by one)"
                    )
            if checked:
                categories[category] = checked
        if database_role and default and undeclared:
            description = settings.get("description") or ""
            roles.append(
                RolePolicy(name, database_role, str(description), default, undeclared, categories)
            )
    return roles


def _treatment(value: Any, where: str, problems: list[str]) -> str | None:
    if value not in TREATMENTS:
        problems.append(f"{where}: {value!r} is not one of {', '.join(TREATMENTS)}")
        return None
    return value


def _direct_access(
    settings: Any, roles: list[RolePolicy], problems: list[str]
) -> tuple[bool, list[str]]:
    if settings is None:
        return True, []
    if not isinstance(settings, dict):
        problems.append("direct_access: expected a mapping")
        return True, []
    for key in sorted(set(settings) - DIRECT_KEYS):
        problems.append(f"direct_access.{key}: unknown key")
    superusers = settings.get("superusers", "allow")
    if superusers not in ("allow", "deny"):
        problems.append(f"direct_access.superusers: {superusers!r} is not allow or deny")
    allowed = settings.get("allowed_roles") or []
    if not isinstance(allowed, list) or not all(
        isinstance(role, str) and DATABASE_ROLE.match(role) for role in allowed
    ):
        problems.append("direct_access.allowed_roles: expected a list of PostgreSQL role names")
        allowed = []
    governed = {role.database_role for role in roles}
    for role in allowed:
        if role in governed:
            problems.append(
                f"direct_access.allowed_roles: {role!r} is a governed role; "
                "it reads through its views only"
            )
    return superusers == "allow", list(allowed)
