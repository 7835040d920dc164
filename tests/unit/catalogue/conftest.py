"""Fixtures shared by the catalogue's unit tests."""

from __future__ import annotations

import pytest

from steward.catalogue import name_rules


@pytest.fixture(scope="module")
def rules():
    """The packaged name rules (name_patterns.yml)."""
    return name_rules.default_rules()
