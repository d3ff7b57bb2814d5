"""The deep-read memory and the cadenced step wrapper, on a fake clock and fake adapters (no AWS)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from upskill_operator.adapters.shared.cadenced import Cadenced
from upskill_operator.adapters.shared.read_memory import Cadence, Memory, cadence
from upskill_operator.models.common import Model
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.outcome import State
from upskill_operator.reconcile.protocol import Observation, Target

from unit.fake_adapter import FakeAdapter

OURS = "ns/res"
SYNCED = Observation(exists=True, owner=OURS, outputs={"arn": "arn:1"})
STALE = Observation(exists=True, up_to_date=False, diff=("spec.x",), owner=OURS)


class Spec(Model):
    deletion_policy: str = "Delete"


def target(generation: int = 1, deleting: bool = False) -> Target:
    return Target("Fake", "ns", "res", "u-1", generation, Spec(), deleting=deleting)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def cadenced(*observations: Observation, max_age: float = 10.0, uses: int = 5) -> tuple[Cadenced, FakeAdapter, Clock]:
    clock = Clock()
    inner = FakeAdapter(observations=list(observations))
    return Cadenced(inner, Memory[Observation](max_age, clock=clock, max_uses=uses)), inner, clock


def test_deep_reads_come_every_nth_pass_and_after_n_plus_one_resyncs_at_the_latest() -> None:
    assert cadence(6, 300) == Cadence(max_age=2100, max_uses=5)
    assert cadence(1, 300) == Cadence(max_age=0, max_uses=0)  # every pass


def test_a_settled_observation_is_reused_for_n_minus_one_passes() -> None:
    step, inner, _ = cadenced(SYNCED, uses=2)
    for _ in range(3):
        assert step.observe(target(), {}) == SYNCED
    assert inner.calls == ["observe"]
    step.observe(target(), {})  # the third pass after the read
    assert inner.calls == ["observe", "observe"]


def test_a_late_pass_reads_again_after_max_age() -> None:
    step, inner, clock = cadenced(SYNCED)
    step.observe(target(), {})
    clock.now += 9
    step.observe(target(), {})
    assert inner.calls == ["observe"]
    clock.now += 1  # 10 s after the read
    step.observe(target(), {})
    assert inner.calls == ["observe", "observe"]


@pytest.mark.parametrize(
    ("later", "outputs"),
    [
        pytest.param(target(generation=2), {}, id="spec-changed"),
        pytest.param(target(), {"clusterMembers": [["db-0", True]]}, id="earlier-step-changed"),
        pytest.param(target(deleting=True), {}, id="deleting"),
    ],
)
def test_a_change_of_what_it_depends_on_reads_again(later: Target, outputs: dict[str, object]) -> None:
    step, inner, _ = cadenced(SYNCED)
    step.observe(target(), {})
    step.observe(later, outputs)
    assert inner.calls == ["observe", "observe"]


@pytest.mark.parametrize(
    "observed",
    [
        pytest.param(STALE, id="differs"),
        pytest.param(replace(SYNCED, pending="proxy is modifying"), id="pending"),
        pytest.param(replace(SYNCED, owner="other/res"), id="foreign"),
        pytest.param(replace(SYNCED, owner=None), id="untagged"),
        pytest.param(replace(SYNCED, conflicts=("spec.network: no",)), id="conflict"),
    ],
)
def test_only_settled_observations_of_ours_are_remembered(observed: Observation) -> None:
    step, inner, _ = cadenced(observed)
    step.observe(target(), {})
    step.observe(target(), {})
    assert inner.calls == ["observe", "observe"]


def test_a_write_makes_the_next_observe_read() -> None:
    step, inner, _ = cadenced(STALE, SYNCED, SYNCED)
    outcome = Engine([step]).reconcile(target())
    assert outcome.state is State.READY
    assert inner.calls == ["observe", "update", "observe"]
    Engine([step]).reconcile(target())
    assert inner.calls == ["observe", "update", "observe"]  # the settled one after the update stands


def test_memory_off_remembers_nothing() -> None:
    memory = Memory[str](0)
    memory.remember("u-1", "", "value")
    assert memory.recall("u-1") is None
    assert len(memory) == 0


def test_expired_entries_are_swept() -> None:
    clock = Clock()
    memory = Memory[int](5, clock=clock)
    for i in range(300):
        memory.remember(f"u-{i}", "", i)
        clock.now += 0.1  # the first ~250 are older than 5 s by the time the sweep runs
    assert len(memory) < 100
    assert memory.recall("u-299") is not None
    assert memory.recall("u-299", key="other") is None
