"""YAML read the fast way: PyYAML's LibYAML (C) loader when it is there, else pure Python.

Steward reads the dbt project's YAML (the data map, policies, rules) in many tasks and
commands; the pure-Python loader spent 0.16 s on every read of the data map. The two
loaders accept the same documents and raise the same errors (with line and column).
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` with the C loader: plain data only (no Python objects)."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader
