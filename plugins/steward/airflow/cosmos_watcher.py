"""Fewer XCom writes from Cosmos' watcher producer (a known Cosmos slowdown, worked around).

Cosmos 1.15's producer writes the ``_dbt_event`` XCom of a dbt node on each of its
lifecycle events (``NodeStart``, ``NodeCompiling``, ``NodeExecuting``,
``NodeFinished``), every write through one process-wide lock and, in Airflow 3, one
call of the execution API. The consumers read that XCom once, when the node has
finished, and only to log its times and message; each write overwrites the last.
On the ``s`` warehouse those writes were most of a producer's time: the staging
group's ``dbt build`` took 4 s alone and 13 s as a producer.

:func:`write_node_events_once` keeps the writes that carry what the consumers read
(``NodeFinished`` and dbt's error events) and drops the intermediate ones. Upstream
tracks the same change (astronomer/astronomer-cosmos#2777, part of #2736); remove
this module when Cosmos makes the allowlist configurable or writes once per node.
The XComs the sensors decide on (status, tests' status, compiled SQL) are untouched.
"""

from __future__ import annotations

# The lifecycle events whose ``_dbt_event`` write is kept: the terminal one.
TERMINAL_NODE_EVENTS = frozenset({"NodeFinished"})


def write_node_events_once() -> bool:
    """Narrow Cosmos' ``_dbt_event`` allowlist to terminal and error events.

    Returns whether Cosmos' producer is the one this was written for (the allowlist is
    where 1.15 keeps it); if not, nothing is changed and Cosmos writes as it does.
    """
    from cosmos.operators._watcher import base

    allowlist = getattr(base, "_DBT_EVENT_ALLOWLIST", None)
    errors = getattr(base, "_DBT_ERROR_EVENTS_TYPES", None)
    if not isinstance(allowlist, frozenset) or not isinstance(errors, frozenset):
        return False
    base._DBT_EVENT_ALLOWLIST = errors | TERMINAL_NODE_EVENTS
    return True
