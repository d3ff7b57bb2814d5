"""The engine's side of the typed protocol: wanted, publication of owned objects only, managed tag keys."""

from __future__ import annotations

from dataclasses import dataclass, replace

from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.outcome import State
from upskill_operator.reconcile.protocol import Observation, Steps, Target

from unit.fake_adapter import FakeAdapter
from unit.test_engine import OURS, OWN_NAME, SYNCED, target

FOREIGN = Observation(exists=True, owner="other/x", outputs={"arn": "arn:theirs"}, pinned={"name": "n-1"})


def test_an_unwanted_object_of_another_owner_is_left_alone() -> None:
    part = FakeAdapter("proxy", observations=[FOREIGN], want=False)
    outcome = Engine([part]).reconcile(target())
    assert outcome.state is State.READY
    assert part.writes == []
    assert "arn" not in outcome.outputs, "nothing of a foreign object is published"


def test_an_unwanted_untagged_object_is_never_adopted_to_be_deleted() -> None:
    untagged = Observation(exists=True, owner=None, naming=OWN_NAME)
    part = FakeAdapter("proxy", observations=[untagged], want=False)
    assert Engine([part]).reconcile(target(adopt=True)).state is State.READY
    assert part.writes == []


def test_an_unwanted_object_of_ours_still_changing_is_waited_for() -> None:
    part = FakeAdapter("proxy", observations=[Observation(exists=True, owner=OURS, pending="creating")], want=False)
    outcome = Engine([part]).reconcile(target())
    assert (outcome.state, outcome.reason, part.writes) == (State.PROGRESSING, "Waiting", [])


def test_an_unwanted_absent_object_publishes_its_cleared_fields() -> None:
    part = FakeAdapter("proxy", observations=[Observation(exists=False, outputs={"proxyArn": None})], want=False)
    outcome = Engine([part]).reconcile(target())
    assert outcome.state is State.READY
    assert part.writes == []
    assert outcome.outputs == {"proxyArn": None}


def test_a_foreign_object_publishes_only_its_pinned_fields() -> None:
    outcome = Engine([FakeAdapter("cluster", observations=[FOREIGN])]).reconcile(target())
    assert (outcome.state, outcome.reason) == (State.TERMINAL, "ForeignOwner")
    assert outcome.outputs == {"name": "n-1"}


def test_an_object_adopted_this_pass_publishes_its_outputs() -> None:
    untagged = Observation(exists=True, owner=None, naming=OWN_NAME, outputs={"arn": "arn:2"})
    adopted = replace(untagged, owner=OURS)
    part = FakeAdapter("table", observations=[untagged, adopted])
    outcome = Engine([part]).reconcile(target(adopt=True))
    assert (outcome.state, part.writes) == (State.READY, ["update"])
    assert outcome.outputs["arn"] == "arn:2"


def test_nested_outputs_merge_across_steps() -> None:
    cluster = FakeAdapter("cluster", observations=[replace(SYNCED, outputs={"endpoints": {"writer": "w"}})])
    proxy = FakeAdapter("proxy", observations=[replace(SYNCED, outputs={"endpoints": {"proxy": "p"}})])
    outcome = Engine([cluster, proxy]).reconcile(target())
    assert outcome.outputs["endpoints"] == {"writer": "w", "proxy": "p"}


def test_managed_tag_keys_are_one_union_whatever_the_order() -> None:
    a = replace(SYNCED, managed_tags=frozenset({"team", "upskill.io/owner"}))
    b = replace(SYNCED, managed_tags=frozenset({"cost", "upskill.io/owner"}))
    for order in ((a, b), (b, a)):
        steps = [FakeAdapter(f"s{i}", observations=[o]) for i, o in enumerate(order)]
        outcome = Engine(steps).reconcile(target())
        assert outcome.outputs["managedTagKeys"] == ["cost", "team", "upskill.io/owner"]


def test_a_foreign_objects_tags_are_not_counted() -> None:
    foreign = replace(FOREIGN, managed_tags=frozenset({"theirs"}))
    ours = replace(SYNCED, managed_tags=frozenset({"team"}))
    outcome = Engine([FakeAdapter("a", observations=[ours]), FakeAdapter("b", observations=[foreign])]).reconcile(
        target()
    )
    assert outcome.outputs["managedTagKeys"] == ["team"]


def test_a_pass_that_stops_early_keeps_the_recorded_keys() -> None:
    first = FakeAdapter("a", observations=[replace(SYNCED, managed_tags=frozenset({"team"}))])
    waiting = FakeAdapter("b", observations=[Observation(exists=True, owner=OURS, pending="creating")])
    recorded = replace(target(), status={"managedTagKeys": ["old"]})
    outcome = Engine([first, waiting]).reconcile(recorded)
    assert outcome.state is State.PROGRESSING
    assert outcome.outputs["managedTagKeys"] == ["old", "team"], "a later step may still have to remove 'old'"


def test_a_complete_pass_drops_keys_no_step_manages_any_more() -> None:
    first = FakeAdapter("a", observations=[replace(SYNCED, managed_tags=frozenset({"team"}))])
    recorded = replace(target(), status={"managedTagKeys": ["old", "team"]})
    assert Engine([first]).reconcile(recorded).outputs["managedTagKeys"] == ["team"]


def test_untagged_steps_publish_no_managed_tag_keys() -> None:
    assert "managedTagKeys" not in Engine([FakeAdapter(observations=[SYNCED])]).reconcile(target()).outputs


@dataclass(frozen=True)
class RoleSeen(Observation):
    arn: str = ""


@dataclass
class RoleStep(FakeAdapter):
    def observe(self, target: Target, steps: Steps) -> Observation:
        self.calls.append("observe")
        return RoleSeen(exists=True, owner=OURS, arn="arn:role")


@dataclass
class ProxyStep(FakeAdapter):
    seen: list[str | None] = None  # type: ignore[assignment]

    def observe(self, target: Target, steps: Steps) -> Observation:
        role = steps.get_step(RoleSeen)
        self.seen = [role.arn if role else None]
        return SYNCED


def test_a_later_step_reads_an_earlier_steps_observation_by_its_type() -> None:
    proxy = ProxyStep("proxy")
    Engine([RoleStep("role"), proxy]).reconcile(target())
    assert proxy.seen == ["arn:role"]
    alone = ProxyStep("proxy")
    Engine([alone]).reconcile(target())
    assert alone.seen == [None], "no earlier step of this pass: nothing, never a remembered value"
