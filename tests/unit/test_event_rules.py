"""Kubernetes Events: which condition changes post one, the per-object gate, and what the engine reports."""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.models.common import Model
from upskill_operator.reconcile.conditions import render
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.events import Event, EventBuffer, EventGate, fit, transitions
from upskill_operator.reconcile.outcome import Outcome, State
from upskill_operator.reconcile.protocol import Observation, Target

from unit.fake_adapter import FakeAdapter

OURS = "ns/res"


class Spec(Model):
    deletion_policy: str = "Delete"
    deletion_protection: bool = False


def _conditions(*outcomes: Outcome) -> list[list[dict[str, Any]]]:
    """The conditions after each outcome in turn, as status would hold them."""
    out: list[list[dict[str, Any]]] = [[]]
    for outcome in outcomes:
        out.append(render(out[-1], outcome, 1, "2026-01-01T00:00:00Z"))
    return out


READY = Outcome(State.READY, "Available", "all AWS objects exist and match the spec")
WAITING = Outcome(State.PROGRESSING, "Waiting", "table: CREATING")
THROTTLED = Outcome(State.RECOVERABLE, "Throttling", "table: slow down")
THROTTLED_AGAIN = Outcome(State.RECOVERABLE, "Throttling", "table: slow down, attempt 2")
INVALID = Outcome(State.TERMINAL, "InvalidSpec", "spec.keys: required")
PROTECTED = Outcome(State.BLOCKED, "DeletionProtected", "spec.deletionProtection is true")


@pytest.mark.parametrize(
    ("before", "after", "want"),
    [
        pytest.param(None, READY, [Event("Normal", "Ready", READY.message)], id="FirstReady"),
        pytest.param(WAITING, READY, [Event("Normal", "Ready", READY.message)], id="ReadyAfterWaiting"),
        pytest.param(READY, READY, [], id="StillReadyIsSilent"),
        pytest.param(None, WAITING, [], id="ProgressIsSilent"),
        pytest.param(READY, WAITING, [], id="UpdatingIsSilent"),
        pytest.param(None, INVALID, [Event("Warning", "InvalidSpec", INVALID.message)], id="Terminal"),
        pytest.param(INVALID, INVALID, [], id="StillTerminalIsSilent"),
        pytest.param(READY, PROTECTED, [Event("Warning", "DeletionProtected", PROTECTED.message)], id="Blocked"),
        pytest.param(PROTECTED, INVALID, [Event("Warning", "InvalidSpec", INVALID.message)], id="TerminalNewReason"),
        pytest.param(READY, THROTTLED, [Event("Warning", "Throttling", THROTTLED.message)], id="Recoverable"),
        pytest.param(THROTTLED, THROTTLED_AGAIN, [], id="SameReasonNewMessageIsSilent"),
    ],
)
def test_transitions(before: Outcome | None, after: Outcome, want: list[Event]) -> None:
    steps = _conditions(*([before] if before else []), after)
    assert transitions(steps[-2], steps[-1]) == want


def test_the_gate_drops_repeats_within_the_window_and_limits_every_object() -> None:
    now = [0.0]
    gate = EventGate(repeat_seconds=600, burst=3, refill_seconds=300, clock=lambda: now[0])
    ready = Event("Normal", "Ready", "ok")
    created = [Event("Normal", "Created", f"step {i}") for i in range(4)]
    assert gate.admit(ready)
    assert not gate.admit(ready), "an identical event inside the window"
    assert [gate.admit(e) for e in created] == [True, True, False, False], "a burst of 3 per object"
    now[0] = 300.0
    assert gate.admit(created[2]), "one more after five minutes"
    assert not gate.admit(created[3])
    now[0] = 601.0
    assert gate.admit(ready), "the same event again once the window has passed"
    now[0] = 1200.0
    assert gate.admit(created[0], generation=2), "an equal change of a newer generation is no repeat"


def _engine_events(adapter: FakeAdapter, *, finalize: bool = False, **spec: object) -> tuple[State, list[Event]]:
    buffer = EventBuffer()
    target = Target("Fake", "ns", "res", "u-1", 1, Spec.model_validate(spec), events=buffer, deleting=finalize)
    engine = Engine([adapter])
    outcome = engine.finalize(target) if finalize else engine.reconcile(target)
    return outcome.state, buffer.events


SYNCED = Observation(exists=True, owner=OURS)
STALE = Observation(exists=True, up_to_date=False, diff=("spec.ttlAttribute",), owner=OURS)


def test_the_engine_reports_each_write_it_makes_and_nothing_else() -> None:
    state, events = _engine_events(FakeAdapter(name="table", observations=[Observation.absent(), STALE, SYNCED]))
    assert state is State.READY
    assert events == [Event("Normal", "Created", "table: created")], "the update finishing a create is part of it"
    _, events = _engine_events(FakeAdapter(name="table", observations=[STALE, SYNCED]))
    assert events == [Event("Normal", "Updated", "table: spec.ttlAttribute")]
    assert _engine_events(FakeAdapter(observations=[SYNCED])) == (State.READY, []), "a resync that writes nothing"


def test_the_engine_reports_deletions_and_no_write_that_failed() -> None:
    gone = Observation(exists=False, up_to_date=True)
    state, events = _engine_events(FakeAdapter(name="table", observations=[SYNCED, gone]), finalize=True)
    assert (state, events) == (
        State.DELETED,
        [Event("Normal", "Deleted", "table: deletion requested (deletionPolicy Delete)")],
    )
    unwanted = Observation(exists=True, up_to_date=False, diff=("spec.proxy",), owner=OURS)
    _, events = _engine_events(FakeAdapter(name="proxy", observations=[unwanted, gone], want=False))
    assert events == [Event("Normal", "Deleted", "proxy: deleted, the spec no longer asks for it")]
    failing = FakeAdapter(observations=[Observation.absent()], fail_on={"create": RuntimeError("boom")})
    assert _engine_events(failing) == (State.RECOVERABLE, [])
    protected = FakeAdapter(observations=[SYNCED])
    assert _engine_events(protected, finalize=True, deletion_protection=True) == (State.BLOCKED, [])
    assert protected.writes == [], "deletion protection writes nothing; its event comes from the Terminal condition"


def test_a_long_message_is_cut_to_what_the_server_accepts_in_bytes() -> None:
    assert fit("short") == "short"
    wide = "é" * 1000  # 1000 characters kopf would pass, 2000 bytes the server refuses
    assert fit(wide) == "é" * 255 + "..." + "é" * 255, "cut between characters, never inside one"
    ascii_text = "x" * 600 + "y" * 600
    assert fit(ascii_text) == "x" * 510 + "..." + "y" * 511
