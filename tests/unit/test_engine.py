"""The generic engine, one named case per branch, against fake adapters (no AWS)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from upskill_operator.errors import RecoverableError, TerminalError
from upskill_operator.models.common import Model
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.outcome import State
from upskill_operator.reconcile.protocol import Naming, Observation, Steps, Target

from unit.fake_adapter import FakeAdapter

OURS = "ns/res"
ABSENT = Observation.absent()
SYNCED = Observation(exists=True, owner=OURS, outputs={"arn": "arn:1"})
STALE = Observation(exists=True, up_to_date=False, diff=("spec.ttlAttribute",), owner=OURS)
OWN_NAME = Naming("p-ns-res", "p-ns-res")
"""An untagged object named exactly as this resource derives it: inside its namespace's adoption scope."""
UNTAGGED = Observation(exists=True, owner=None, naming=OWN_NAME)


class Spec(Model):
    deletion_policy: str = "Delete"
    deletion_protection: bool = False
    adopt: bool = False


def target(**spec: object) -> Target:
    return Target(kind="Fake", namespace="ns", name="res", uid="u-1", generation=3, spec=Spec.model_validate(spec))


@dataclass
class Case:
    observations: list[Observation]
    want_state: State
    want_writes: list[str]
    want_reason: str | None = None
    spec: dict[str, object] = field(default_factory=dict)
    fail_on: dict[str, Exception] = field(default_factory=dict)
    owner_field: str | None = "spec.name"
    scopes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    wanted: bool = True


RECONCILE_CASES = {
    "ObserveErrorRecoverable": Case(
        [SYNCED],
        State.RECOVERABLE,
        [],
        "Throttling",
        fail_on={"observe": RecoverableError("slow", reason="Throttling")},
    ),
    "ObserveErrorTerminal": Case(
        [SYNCED], State.TERMINAL, [], "AccessDenied", fail_on={"observe": TerminalError("no", reason="AccessDenied")}
    ),
    "ObserveUnexpectedBugBacksOff": Case(
        [SYNCED], State.RECOVERABLE, [], "InternalError", fail_on={"observe": KeyError("x")}
    ),
    "NotFoundThenCreate": Case([ABSENT, SYNCED], State.READY, ["create"], "Available"),
    "CreateThenPending": Case(
        [ABSENT, Observation(exists=True, owner=OURS, pending="CREATING")], State.PROGRESSING, ["create"], "Waiting"
    ),
    "CreateError": Case(
        [ABSENT], State.RECOVERABLE, ["create"], "Busy", fail_on={"create": RecoverableError("b", reason="Busy")}
    ),
    "UpToDateNoWrites": Case([SYNCED], State.READY, [], "Available"),
    "UnwantedPartDeletedDuringSync": Case(
        [
            Observation(exists=True, owner=OURS, up_to_date=False, diff=("spec.proxy.enabled",)),
            Observation(exists=False, up_to_date=True),
        ],
        State.READY,
        ["delete:Delete"],
        "Available",
        wanted=False,
    ),
    "UnwantedPartThatSurvivesDeleteNotConverged": Case(
        [Observation(exists=True, owner=OURS, up_to_date=False, diff=("spec.proxy.enabled",))],
        State.RECOVERABLE,
        ["delete:Delete"],
        "NotConverged",
        wanted=False,
    ),
    "AbsentAndNotWantedNoCreate": Case([Observation(exists=False, up_to_date=True)], State.READY, [], "Available"),
    "UpdateNeeded": Case([STALE, SYNCED], State.READY, ["update"], "Available"),
    # A table's creation: the observe after CreateTable and after the TTL/PITR writes is built from their
    # answers (no read), and the engine takes it as it takes any observation: Ready in the same pass.
    "CreateThenUpdateFromAnswers": Case([ABSENT, STALE, SYNCED], State.READY, ["create", "update"], "Available"),
    "UpdateNotConverging": Case([STALE], State.RECOVERABLE, ["update"], "NotConverged"),
    "UpdateRefusedByAws": Case(
        [STALE],
        State.TERMINAL,
        ["update"],
        "ValidationException",
        fail_on={"update": TerminalError("bad", reason="ValidationException")},
    ),
    "TransitionalStateRequeues": Case(
        [Observation(exists=True, owner=OURS, pending="UPDATING")], State.PROGRESSING, [], "Waiting"
    ),
    "ImmutableConflict": Case(
        [Observation(exists=True, owner=OURS, up_to_date=False, conflicts=("spec.keys: immutable after creation",))],
        State.TERMINAL,
        [],
        "ImmutableField",
    ),
    "ForeignOwner": Case([Observation(exists=True, owner="other/thing")], State.TERMINAL, [], "ForeignOwner"),
    "ForeignOwnerEvenWithAdopt": Case(
        [Observation(exists=True, owner="other/thing")], State.TERMINAL, [], "ForeignOwner", spec={"adopt": True}
    ),
    "UntaggedWithoutAdopt": Case([UNTAGGED], State.TERMINAL, [], "AdoptionRequired"),
    "UntaggedAdopted": Case([UNTAGGED, SYNCED], State.READY, ["update"], spec={"adopt": True}),
    "UntaggedAdoptionNotApplied": Case([UNTAGGED], State.RECOVERABLE, ["update"], "NotConverged", spec={"adopt": True}),
    "UntaggedWithoutNamingNeverAdopted": Case(
        [Observation(exists=True, owner=None)], State.TERMINAL, [], "OutsideAdoptionScope", spec={"adopt": True}
    ),
    "UntaggedCustomNameOutsideScope": Case(
        [Observation(exists=True, owner=None, naming=Naming("team-b-orders", "p-ns-res"))],
        State.TERMINAL,
        [],
        "OutsideAdoptionScope",
        spec={"adopt": True},
    ),
    "UntaggedDerivedNameSharedWithRival": Case(
        [Observation(exists=True, owner=None, naming=Naming("p-ns-a-res", "p-ns-a-res", rivals=("ns-a",)))],
        State.TERMINAL,
        [],
        "OutsideAdoptionScope",
        spec={"adopt": True},
    ),
    "UntaggedOutsideScopeEvenWithoutAdopt": Case(
        [Observation(exists=True, owner=None, naming=Naming("team-b-orders", "p-ns-res"))],
        State.TERMINAL,
        [],
        "OutsideAdoptionScope",
    ),
    "UntaggedGrantedByAdministrator": Case(
        [Observation(exists=True, owner=None, naming=Naming("legacy-orders", "p-ns-res")), SYNCED],
        State.READY,
        ["update"],
        spec={"adopt": True},
        scopes={"ns": ("legacy-*",)},
    ),
    "GrantOfAnotherNamespaceDoesNotCount": Case(
        [Observation(exists=True, owner=None, naming=Naming("legacy-orders", "p-ns-res"))],
        State.TERMINAL,
        [],
        "OutsideAdoptionScope",
        spec={"adopt": True},
        scopes={"other": ("legacy-*",)},
    ),
    "GrantNeverCoversATaggedObject": Case(
        [Observation(exists=True, owner="other/thing", naming=Naming("legacy-orders", "p-ns-res"))],
        State.TERMINAL,
        [],
        "ForeignOwner",
        spec={"adopt": True},
        scopes={"ns": ("*",)},
    ),
    "UntrackedOwnerIgnored": Case([Observation(exists=True, owner=None)], State.READY, [], owner_field=None),
    "WriteBudgetSpent": Case(
        [STALE, *(Observation(exists=True, owner=OURS, up_to_date=False, diff=(f"d{i}",)) for i in range(1, 20))],
        State.PROGRESSING,
        ["update"] * 8,
        "Progressing",
    ),
}


@pytest.mark.parametrize("case", RECONCILE_CASES.values(), ids=RECONCILE_CASES.keys())
def test_reconcile(case: Case) -> None:
    adapter = FakeAdapter(
        observations=list(case.observations), fail_on=case.fail_on, owner_field=case.owner_field, want=case.wanted
    )
    outcome = Engine([adapter], max_writes=8, adopt_scopes=case.scopes).reconcile(target(**case.spec))
    assert outcome.state is case.want_state, outcome
    assert adapter.writes == case.want_writes
    if case.want_reason:
        assert outcome.reason == case.want_reason
    if case.want_state is State.PROGRESSING:
        assert outcome.requeue_after is not None
        assert outcome.requeue_after > 0


FINALIZE_CASES = {
    "RetainTouchesNothing": Case([SYNCED], State.DELETED, [], "Retained", spec={"deletion_policy": "Retain"}),
    "DeleteWhenGone": Case([ABSENT], State.DELETED, [], "Deleted"),
    "DeleteNotWantedPart": Case([Observation(exists=False, up_to_date=True)], State.DELETED, [], "Deleted"),
    "DeleteOwned": Case([SYNCED, ABSENT], State.DELETED, ["delete:Delete"], "Deleted"),
    "SnapshotPolicyPassedToAdapter": Case(
        [SYNCED, ABSENT], State.DELETED, ["delete:Snapshot"], spec={"deletion_policy": "Snapshot"}
    ),
    "DeleteStillInProgress": Case(
        [SYNCED, Observation(exists=True, owner=OURS, pending="DELETING")],
        State.PROGRESSING,
        ["delete:Delete"],
        "Deleting",
    ),
    "DeleteWaitsForWhatDeletionLeaves": Case(
        [SYNCED, Observation(exists=False, pending="final snapshot creating")],
        State.PROGRESSING,
        ["delete:Delete"],
        "Deleting",
    ),
    "GoneButLeftoverNotReady": Case(
        [Observation(exists=False, pending="final snapshot creating")], State.PROGRESSING, [], "Deleting"
    ),
    "DeleteWaitsForPendingObject": Case(
        [Observation(exists=True, owner=OURS, pending="MODIFYING")], State.PROGRESSING, [], "Deleting"
    ),
    "DeleteProtectedBlocked": Case(
        [SYNCED], State.BLOCKED, [], "DeletionProtected", spec={"deletion_protection": True}
    ),
    "ProtectedButNeverCreated": Case([ABSENT], State.DELETED, [], "NothingCreated", spec={"deletion_protection": True}),
    "DeleteSkipsForeign": Case([Observation(exists=True, owner="other/x")], State.DELETED, [], "Deleted"),
    "DeleteSkipsUntagged": Case([Observation(exists=True, owner=None)], State.DELETED, []),
    "DeleteErrorRecoverable": Case(
        [SYNCED],
        State.RECOVERABLE,
        ["delete:Delete"],
        "Busy",
        fail_on={"delete:Delete": RecoverableError("b", reason="Busy")},
    ),
}


@pytest.mark.parametrize("case", FINALIZE_CASES.values(), ids=FINALIZE_CASES.keys())
def test_finalize(case: Case) -> None:
    adapter = FakeAdapter(observations=list(case.observations), fail_on=case.fail_on)
    outcome = Engine([adapter]).finalize(target(**case.spec))
    assert outcome.state is case.want_state, outcome
    assert adapter.writes == case.want_writes
    if case.want_reason:
        assert outcome.reason == case.want_reason


def test_blocked_deletion_stops_at_the_first_object_of_ours() -> None:
    network = FakeAdapter(name="network", observations=[SYNCED])
    cluster = FakeAdapter(name="cluster", observations=[SYNCED])
    outcome = Engine([network, cluster]).finalize(target(deletion_protection=True))
    assert (network.calls, cluster.calls) == (["observe"], [])
    assert "spec.deletionProtection" in outcome.message


def test_protection_guards_only_objects_of_ours() -> None:
    foreign = FakeAdapter(name="network", observations=[Observation(exists=True, owner="other/x")])
    absent = FakeAdapter(name="cluster", observations=[ABSENT])
    outcome = Engine([foreign, absent]).finalize(target(deletion_protection=True))
    assert (outcome.state, outcome.reason) == (State.DELETED, "NothingCreated")
    assert foreign.writes == absent.writes == []


def test_adapters_run_in_order_and_share_outputs() -> None:
    seen: list[dict[str, object]] = []

    class Second(FakeAdapter):
        def observe(self, target: Target, steps: Steps) -> Observation:
            seen.append(steps.published)
            return super().observe(target, steps)

    first = FakeAdapter(name="first", observations=[SYNCED])
    second = Second(name="second", observations=[Observation(exists=True, owner=OURS, outputs={"endpoint": "e"})])
    outcome = Engine([first, second]).reconcile(target())
    assert seen == [{"arn": "arn:1"}]
    assert outcome.outputs == {"arn": "arn:1", "endpoint": "e"}


def test_waiting_step_stops_later_steps() -> None:
    first = FakeAdapter(name="cluster", observations=[Observation(exists=True, owner=OURS, pending="creating")])
    second = FakeAdapter(name="proxy", observations=[ABSENT])
    outcome = Engine([first, second]).reconcile(target())
    assert outcome.state is State.PROGRESSING
    assert outcome.message == "cluster: creating"
    assert second.calls == []


def test_teardown_runs_in_reverse_order() -> None:
    order: list[str] = []

    class Recording(FakeAdapter):
        def delete(self, target, outputs, observed, policy):  # type: ignore[no-untyped-def]
            order.append(self.name)

    adapters = [Recording(name=n, observations=[SYNCED, ABSENT]) for n in ("subnets", "cluster", "proxy")]
    assert Engine(adapters).finalize(target()).state is State.DELETED
    assert order == ["proxy", "cluster", "subnets"]


def test_error_message_names_the_step() -> None:
    adapter = FakeAdapter(
        name="proxy", observations=[SYNCED], fail_on={"observe": TerminalError("denied", reason="AccessDenied")}
    )
    assert Engine([adapter]).reconcile(target()).message == "proxy: denied"
