"""Conditions and phase from outcomes: the four types, transition times kept when unchanged."""

from __future__ import annotations

import pytest

from upskill_operator.models.common import Phase
from upskill_operator.reconcile.conditions import LATE_INITIALIZED, phase_for, render, set_condition
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


def test_set_condition_replaces_in_place_appends_new_and_keeps_the_others() -> None:
    previous = [{"type": "A", "status": "True", "lastTransitionTime": "T0"}, {"type": "B", "status": "False"}]
    out = set_condition(previous, "A", "True", "Still", "same status", "T1")
    assert [c["type"] for c in out] == ["A", "B"]
    assert out[0] == {
        "type": "A",
        "status": "True",
        "reason": "Still",
        "message": "same status",
        "lastTransitionTime": "T0",
    }
    assert out[1] == previous[1]
    flipped = set_condition(out, "A", "False", "Flipped", "", "T2", generation=4)
    assert flipped[0]["lastTransitionTime"] == "T2"
    assert flipped[0]["observedGeneration"] == 4
    added = set_condition(flipped, "C", "Unknown", "New", "", "T3")
    assert [c["type"] for c in added] == ["A", "B", "C"]
    assert added[2]["lastTransitionTime"] == "T3"
    assert "observedGeneration" not in added[2]


def ready(*late: str) -> Outcome:
    return Outcome(State.READY, "Available", "ok", late_initialized=late)


def test_late_initialized_is_true_with_the_fields_when_aws_defaulted_some() -> None:
    out = by_type(render([], ready("spec.b", "spec.a", "spec.b"), 3, "T1"))
    assert out[LATE_INITIALIZED] == {
        "type": LATE_INITIALIZED,
        "status": "True",
        "reason": "DefaultedByAWS",
        "message": "AWS chose values for fields the spec leaves unset: spec.a, spec.b",
        "lastTransitionTime": "T1",
        "observedGeneration": 3,
    }


def test_late_initialized_renders_the_same_on_every_steady_pass() -> None:
    first = render([], ready("spec.backup.preferredWindow"), 1, "T1")
    assert render(first, ready("spec.backup.preferredWindow"), 1, "T2") == first


def test_late_initialized_is_absent_when_nothing_was_defaulted() -> None:
    assert LATE_INITIALIZED not in by_type(render([], ready(), 1, "T1"))
    first = render([], ready("spec.x"), 1, "T1")
    assert LATE_INITIALIZED not in by_type(render(first, ready(), 2, "T2"))


@pytest.mark.parametrize("state", [State.PROGRESSING, State.RECOVERABLE, State.TERMINAL])
def test_a_pass_that_stopped_early_keeps_late_initialized_as_it_was(state: State) -> None:
    first = render([], ready("spec.x"), 1, "T1")
    later = by_type(render(first, Outcome(state, "Waiting", "busy"), 1, "T2"))
    assert later[LATE_INITIALIZED] == by_type(first)[LATE_INITIALIZED]
    assert LATE_INITIALIZED not in by_type(
        render([], Outcome(state, "Waiting", "busy", late_initialized=("spec.x",)), 1, "T")
    )
