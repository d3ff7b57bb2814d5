"""Data-bearing objects that vanished: one named row per branch of the engine's decision (fake adapters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from upskill_operator.errors import RecoverableError
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.outcome import State
from upskill_operator.reconcile.protocol import RECREATE_ANNOTATION, Gone, Observation, Target

from unit.fake_adapter import FakeAdapter
from unit.test_engine import SYNCED, Spec

NOW = "2026-12-02T14:00:00Z"
EARLIER = "2026-11-30T09:00:00Z"
LOST = Gone("DynamoDB table", "upskill-ns-res", "its latest backup is nightly (USER, AVAILABLE)")
GONE = Observation(exists=False, up_to_date=False, gone=LOST)
ABSENT = Observation.absent()
RECORD = {"step": "fake", "object": "upskill-ns-res", "since": EARLIER}


def target(status: dict[str, Any], annotation: str | None = None, **spec: object) -> Target:
    annotations = {RECREATE_ANNOTATION: annotation} if annotation is not None else {}
    return Target(
        kind="Fake",
        namespace="ns",
        name="res",
        uid="u-1",
        generation=1,
        spec=Spec.model_validate(spec),
        status=status,
        annotations=annotations,
    )


@dataclass
class Row:
    observations: list[Observation]
    status: dict[str, Any]
    annotation: str | None
    want_state: State
    want_writes: list[str]
    want_record: Any = "absent"
    """``status.dataObjectGone`` in the outcome's outputs: a dict, None (cleared), or "absent" (not written)."""
    want_in_message: tuple[str, ...] = field(default_factory=tuple)
    fail_on: dict[str, Exception] = field(default_factory=dict)


ROWS = {
    "FirstCreationIsNotALoss": Row([ABSENT, SYNCED], {}, None, State.READY, ["create"]),
    "GoneIsTerminalAndRecordsWhen": Row(
        [GONE],
        {"arn": "arn:1"},
        None,
        State.TERMINAL,
        [],
        {"step": "fake", "object": "upskill-ns-res", "since": NOW},
        (
            "fake: DynamoDB table upskill-ns-res is gone from AWS",
            "latest backup is nightly",
            f'{RECREATE_ANNOTATION}: "upskill-ns-res@{NOW}"',
        ),
    ),
    "GoneKeepsTheFirstSince": Row(
        [GONE], {"arn": "arn:1", "dataObjectGone": RECORD}, None, State.TERMINAL, [], RECORD, (f"@{EARLIER}",)
    ),
    "ApprovalReCreatesEmptyAndClearsTheRecord": Row(
        [GONE, SYNCED],
        {"arn": "arn:1", "dataObjectGone": RECORD},
        f"upskill-ns-res@{EARLIER}",
        State.READY,
        ["create"],
        None,
    ),
    "ApprovalWhoseCreateFailsKeepsTheRecord": Row(
        [GONE],
        {"arn": "arn:1", "dataObjectGone": RECORD},
        f"upskill-ns-res@{EARLIER}",
        State.RECOVERABLE,
        ["create"],
        RECORD,
        fail_on={"create": RecoverableError("slow", reason="Throttling")},
    ),
    "StaleAnnotationOfAnEarlierLossIsRefused": Row(
        [GONE],
        {"arn": "arn:1", "dataObjectGone": RECORD},
        "upskill-ns-res@2026-01-01T00:00:00Z",
        State.TERMINAL,
        [],
        RECORD,
    ),
    "AnnotationLeftFromALossBeforeIsRefused": Row(
        [GONE],
        {"arn": "arn:1"},
        f"upskill-ns-res@{EARLIER}",
        State.TERMINAL,
        [],
        {"step": "fake", "object": "upskill-ns-res", "since": NOW},
    ),
    "BareObjectNameIsNoApproval": Row(
        [GONE], {"arn": "arn:1", "dataObjectGone": RECORD}, "upskill-ns-res", State.TERMINAL, [], RECORD
    ),
    "RestoredObjectClearsTheRecord": Row(
        [SYNCED], {"arn": "arn:1", "dataObjectGone": RECORD}, None, State.READY, [], None
    ),
    "StatelessPartIsReCreatedAsBefore": Row([ABSENT, SYNCED], {"arn": "arn:1"}, None, State.READY, ["create"]),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_a_lost_data_object(row: Row) -> None:
    adapter = FakeAdapter(observations=list(row.observations), fail_on=row.fail_on)
    outcome = Engine([adapter], clock=lambda: NOW).reconcile(target(row.status, row.annotation))
    assert outcome.state is row.want_state, outcome.message
    assert adapter.writes == row.want_writes
    assert outcome.outputs.get("dataObjectGone", "absent") == row.want_record
    if row.want_state is State.TERMINAL:
        assert outcome.reason == "DataObjectGone"
    for text in row.want_in_message:
        assert text in outcome.message


def test_a_loss_found_later_in_the_pass_still_lets_earlier_stateless_parts_be_created() -> None:
    stateless = FakeAdapter(name="group", owner_field=None, observations=[ABSENT, Observation(exists=True)])
    data = FakeAdapter(name="fake", observations=[GONE])
    outcome = Engine([stateless, data], clock=lambda: NOW).reconcile(target({"arn": "arn:1"}))
    assert outcome.state is State.TERMINAL
    assert stateless.writes == ["create"]
    assert data.writes == []


def test_deletion_of_a_resource_whose_data_object_is_gone_goes_ahead() -> None:
    adapter = FakeAdapter(observations=[GONE])
    outcome = Engine([adapter], clock=lambda: NOW).finalize(target({"arn": "arn:1"}, deletion_policy="Delete"))
    assert outcome.state is State.DELETED
    assert adapter.writes == []
