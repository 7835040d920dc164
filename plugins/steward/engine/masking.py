"""Masking by data category: the one registry, for retention and DSAR alike.

The category of a column decides its strategy (``retention/policies.yml``
``masking:``, longest matching prefix; strategies in
``retention/strategies.py``). Retention's policies are built from it;
DSAR anonymisation asks :func:`plan_columns` for the same answer, for the data
map's personal columns and for the PII catalogue's (declared or not).
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2 import sql

from steward.retention import strategies
from steward.retention.policies import PolicySet, load_policies

FALLBACK = "nullify"


@dataclass(frozen=True)
class MaskedColumn:
    """A column to anonymise, or why it cannot be."""

    column: str
    category: str
    data_type: str
    strategy: str | None
    params: dict
    problem: str | None = None  # set: the column cannot be handled (request not verified)

    def assignment(self, key: strategies.HmacKey | None) -> sql.Composable:
        expression = strategies.get(self.strategy).sql(
            sql.SQL("t.") + sql.Identifier(self.column), self.data_type, self.params, key
        )
        return sql.SQL("{} = {}").format(sql.Identifier(self.column), expression)

    def masked_check(self) -> sql.Composable:
        return strategies.get(self.strategy).masked_sql(
            sql.SQL("t.") + sql.Identifier(self.column), self.data_type, self.params
        )


_loaded: dict[tuple, PolicySet] = {}


def policy_set(data_map=None) -> PolicySet:
    """The validated policies (the registry), loaded once per process and policy file
    version: loading parses the whole data map, seconds on a busy machine."""
    from steward.retention.policies import POLICY_FILE

    key = (POLICY_FILE.stat().st_mtime_ns,)
    if key not in _loaded:
        _loaded.clear()
        _loaded[key] = load_policies(data_map=data_map)
    return _loaded[key]


def plan_columns(
    columns: list[tuple[str, str]],
    column_info: dict[str, tuple[str, bool]],
    protected: set[str],
    policies: PolicySet,
    key: strategies.HmacKey | None,
) -> list[MaskedColumn]:
    """Strategies for ``columns`` [(name, category)] of one table.

    ``column_info``: name -> (data type, nullable). A column that does not
    exist, is a key, has no strategy, cannot take its strategy's type, or must
    be nulled but is NOT NULL is returned with a ``problem``. A strategy that
    needs the HMAC secret when none is set falls back to ``nullify`` (erasure
    may always remove more, never less).
    """
    planned: list[MaskedColumn] = []
    for name, category in columns:
        info = column_info.get(name)
        if info is None:
            planned.append(MaskedColumn(name, category, "", None, {}, "no such column"))
            continue
        data_type, nullable = info
        if name in protected:
            planned.append(
                MaskedColumn(name, category, data_type, None, {}, "a key column: cannot be masked")
            )
            continue
        chosen = policies.strategy_for(category)
        if chosen is None:
            planned.append(
                MaskedColumn(name, category, data_type, None, {}, "no masking strategy for it")
            )
            continue
        strategy_name, params = chosen
        strategy = strategies.get(strategy_name)
        if strategy.needs_secret and key is None:
            strategy_name, params, strategy = FALLBACK, {}, strategies.get(FALLBACK)
        if strategy.column_types is not None and data_type not in strategy.column_types:
            if nullable:
                strategy_name, params = FALLBACK, {}
            else:
                planned.append(
                    MaskedColumn(
                        name,
                        category,
                        data_type,
                        None,
                        {},
                        f"strategy {strategy_name} cannot mask type {data_type}",
                    )
                )
                continue
        if strategy_name == FALLBACK and not nullable:
            planned.append(
                MaskedColumn(name, category, data_type, None, {}, "NOT NULL: cannot be nulled")
            )
            continue
        planned.append(MaskedColumn(name, category, data_type, strategy_name, dict(params)))
    return planned
