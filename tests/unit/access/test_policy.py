"""The role policy file: validation names every problem; resolution by longest prefix."""

from __future__ import annotations

import textwrap

import pytest

from steward.access import policy as access_policy
from steward.access.policy import AccessPolicyError, load_policy


def _write(tmp_path, text: str):
    path = tmp_path / "policy.yml"
    path.write_text(textwrap.dedent(text))
    return path


def test_the_shipped_policy_is_valid_and_names_the_three_roles():
    policy = load_policy(access_policy.DEFAULT_POLICY_FILE)
    assert {role.database_role for role in policy.roles} == {
        "steward_analyst",
        "steward_agent",
        "steward_privacy",
    }
    analyst = policy.role("analyst")
    assert analyst.undeclared == "hidden"
    assert analyst.treatment("user.contact.email") == "masked"
    assert analyst.treatment("user.name.first") == "hashed"  # from the prefix user.name
    assert analyst.treatment("user.government_id.national_id") == "hidden"  # the default


def test_every_resolved_masked_category_has_a_mask():
    policy = load_policy(access_policy.DEFAULT_POLICY_FILE)
    for row in policy.resolved():
        assert (row["mask"] is not None) == (row["treatment"] == "masked"), row


@pytest.mark.parametrize(
    ("category", "mask"),
    [
        ("user.contact.phone_number", "last_4_digits"),
        ("user.financial.card_number", "last_4_digits"),
        ("user.government_id.national_id", "last_4_digits"),
        ("user.contact.email", "email_domain"),
        ("user.demographic.date_of_birth", "year_of_birth"),
        ("user.name.first", None),
    ],
)
def test_masks_by_category(category, mask):
    assert access_policy.mask_for(category) == mask


def test_a_broken_policy_names_every_problem(tmp_path):
    path = _write(
        tmp_path,
        """
        roles:
          analyst:
            database_role: steward_analyst
            default: blurred
            categories:
              user.nickname: full
              user.name: masked
          agent:
            database_role: steward_analyst
          Bad-Name: {database_role: x}
        direct_access:
          superusers: maybe
          allowed_roles: [steward_analyst]
        extra: 1
        """,
    )
    with pytest.raises(AccessPolicyError) as raised:
        load_policy(path)
    text = str(raised.value)
    for expected in (
        "extra: unknown key",
        "roles.analyst.default: 'blurred' is not one of full, masked, hashed, hidden",
        "roles.analyst.categories.user.nickname: not a data category",
        "roles.analyst.categories.user.name: masked, but",
        "roles.agent.database_role: 'steward_analyst' is used by another role",
        "roles.Bad-Name: a role name",
        "direct_access.superusers: 'maybe' is not allow or deny",
        "direct_access.allowed_roles: 'steward_analyst' is a governed role",
    ):
        assert expected in text, expected


@pytest.mark.parametrize(
    "text",
    ["roles: [", "roles: {}", "- a list", "roles:\n  analyst:\n    database_role: pg_monitor\n"],
)
def test_malformed_files_are_refused(tmp_path, text):
    with pytest.raises(AccessPolicyError):
        load_policy(_write(tmp_path, text))


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(AccessPolicyError, match="cannot be read"):
        load_policy(tmp_path / "nope.yml")


def test_the_policy_file_comes_from_the_environment(tmp_path, monkeypatch):
    path = _write(tmp_path, "roles:\n  x:\n    database_role: steward_x\n")
    monkeypatch.setenv(access_policy.POLICY_ENV, str(path))
    policy = load_policy()
    assert policy.path == path.resolve()
    assert policy.role("steward_x").default == "hidden"
