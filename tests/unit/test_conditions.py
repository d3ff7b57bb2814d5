"""Conditions and phase from outcomes: the four types, transition times kept when unchanged."""

from __future__ import annotations

import pytest

from upskill_operator.models.common import Phase
from upskill_operator.reconcile.conditions import phase_for, render
from upskill_operator.reconcile.outcome import Outcome, State


def by_type(conditions: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {c["type"]: c for c in conditions}


def test_ready_sets_all_four_with_generation() -> None:
    out = by_type(render([], Outcome(State.READY, "Available", "ok"), 7, "T1"))
    assert {t: c["status"] for t, c in out.items()} == {
        "Ready": "True",
        "Synced": "True",
        "Terminal": "False",
        "Recoverable": "False",
    }
    assert all(c["observedGeneration"] == 7 and c["lastTransitionTime"] == "T1" for c in out.values())


def test_unchanged_status_keeps_transition_time_and_changed_one_moves() -> None:
    first = render([], Outcome(State.READY, "Available"), 1, "T1")
    second = by_type(render(first, Outcome(State.RECOVERABLE, "Throttling", "slow down"), 2, "T2"))
    assert second["Ready"]["lastTransitionTime"] == "T2"
    assert second["Recoverable"] == {
        "type": "Recoverable",
        "status": "True",
        "reason": "Throttling",
        "message": "slow down",
        "lastTransitionTime": "T2",
        "observedGeneration": 2,
    }
    assert second["Terminal"]["lastTransitionTime"] == "T1"


def test_foreign_condition_types_survive() -> None:
    previous = [{"type": "LatencyWithinSLO", "status": "True"}]
    out = by_type(render(previous, Outcome(State.TERMINAL, "InvalidSpec", "spec.x: bad"), 1, "T"))
    assert out["LatencyWithinSLO"]["status"] == "True"
    assert out["Terminal"]["status"] == "True"
    assert out["Ready"]["message"] == "spec.x: bad"


def test_blocked_deletion_is_terminal() -> None:
    out = by_type(render([], Outcome(State.BLOCKED, "DeletionProtected", "set it false"), 1, "T"))
    assert out["Terminal"]["status"] == "True"
    assert out["Ready"]["status"] == "False"


@pytest.mark.parametrize(
    ("state", "previous", "deleting", "want"),
    [
        (State.READY, None, False, Phase.READY),
        (State.PROGRESSING, None, False, Phase.CREATING),
        (State.PROGRESSING, "Ready", False, Phase.UPDATING),
        (State.RECOVERABLE, "Creating", False, Phase.CREATING),
        (State.TERMINAL, "Ready", False, Phase.FAILED),
        (State.PROGRESSING, "Ready", True, Phase.DELETING),
        (State.BLOCKED, "Ready", True, Phase.DELETING),
    ],
)
def test_phase(state: State, previous: str | None, deleting: bool, want: Phase) -> None:
    assert phase_for(Outcome(state, "r"), previous, deleting) is want
