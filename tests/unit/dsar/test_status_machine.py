import pytest

from steward.dsar.register import STATUSES, TERMINAL, TRANSITIONS, TransitionError, check_transition


def test_every_status_has_transitions_and_terminal_ones_have_none():
    assert set(TRANSITIONS) == set(STATUSES)
    for status in TERMINAL:
        assert TRANSITIONS[status] == frozenset()
    for targets in TRANSITIONS.values():
        assert targets <= set(STATUSES)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("received", "in_progress"),
        ("received", "awaiting_verification"),
        ("awaiting_verification", "paused"),
        ("paused", "in_progress"),
        ("in_progress", "extended"),
        ("extended", "completed"),
        ("in_progress", "rejected"),
    ],
)
def test_legal_transitions(current, target):
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("completed", "in_progress"),
        ("rejected", "received"),
        ("received", "completed"),
        ("received", "extended"),
        ("in_progress", "received"),
        ("in_progress", "bogus"),
    ],
)
def test_illegal_transitions(current, target):
    with pytest.raises(TransitionError):
        check_transition(current, target)
