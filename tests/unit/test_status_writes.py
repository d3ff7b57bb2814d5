"""Status is written only when it changes: the diff the handlers write, and the stamps kept in memory."""

from __future__ import annotations

from typing import Any

import kopf
import pytest

from upskill_operator.handlers.lifecycle import StatusDiffBase
from upskill_operator.handlers.resource import snapshot_of, to_write
from upskill_operator.status import changes, same_status

READY = [
    {"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": "T0"},
    {"type": "LatencyWithinSLO", "status": "True", "reason": "WithinSLO", "lastTransitionTime": "T0"},
]
HELD: dict[str, Any] = {
    "phase": "Ready",
    "conditions": READY,
    "lastSyncTime": "2026-12-02T10:00:00Z",
    "tableName": "t",
    "latency": {"p50Ms": 1.0, "p99Ms": 2.0},
}


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        pytest.param({"phase": "Ready", "lastSyncTime": "2026-12-02T10:05:00Z"}, {}, id="only the time moved"),
        pytest.param({"lastRefreshTime": "2026-12-02T10:05:00Z"}, {}, id="only a refresh stamp"),
        pytest.param({"conditions": list(reversed(READY))}, {}, id="conditions in another order"),
        pytest.param({"dataObjectGone": None, "streamArn": None}, {}, id="null over absent"),
        pytest.param({"latency": {"p50Ms": 1, "p99Ms": 2, "lastProbeTime": None}}, {}, id="nested null, int and float"),
        pytest.param(
            {"phase": "Updating", "lastSyncTime": "T9"},
            {"phase": "Updating", "lastSyncTime": "T9"},
            id="a change carries the time with it",
        ),
        pytest.param(
            {"conditions": [{**READY[0], "status": "False"}, READY[1]], "tableName": "t"},
            {"conditions": [{**READY[0], "status": "False"}, READY[1]]},
            id="a condition flips: only what changed",
        ),
        pytest.param({"tableArn": "arn:x"}, {"tableArn": "arn:x"}, id="a new output"),
        pytest.param({"tableName": None}, {"tableName": None}, id="an output removed"),
    ],
)
def test_changes(patch: dict[str, Any], expected: dict[str, Any]) -> None:
    assert changes(HELD, patch) == expected


def test_same_status_compares_values_not_spelling() -> None:
    assert same_status({"a": None}, {})  # a null in a merge patch removes the key
    assert same_status([{"type": "A", "x": 1}, {"type": "B"}], [{"type": "B"}, {"type": "A", "x": 1.0}])
    assert not same_status([1, 2], [2, 1])  # only typed conditions are keyed; other lists keep their order
    assert not same_status({"a": 1}, {"a": 1, "b": 0})


def test_a_quiet_pass_writes_nothing_and_its_stamps_stay_in_memory() -> None:
    memo = kopf.Memo()
    body = kopf.Body({"metadata": {"name": "s"}, "status": {**HELD, "lastRefreshTime": "2026-12-02T10:00:00Z"}})
    quiet = {"phase": "Ready", "lastSyncTime": "2026-12-02T10:05:00Z", "lastRefreshTime": "2026-12-02T10:05:00Z"}
    assert to_write(body, memo, quiet) == {}
    seen = snapshot_of(body, memo)["status"]
    assert seen["lastRefreshTime"] == "2026-12-02T10:05:00Z"  # a refresh interval counts from the last pass
    assert seen["tableName"] == "t"
    assert body["status"]["lastRefreshTime"] == "2026-12-02T10:00:00Z"  # the live body is never modified


def test_a_lost_write_is_written_again() -> None:
    """Compared with the body kopf holds, not with what this process believes it wrote."""
    memo = kopf.Memo()
    body = kopf.Body({"metadata": {"name": "t"}, "status": HELD})
    change = {"phase": "Updating", "lastSyncTime": "2026-12-02T10:05:00Z"}
    assert to_write(body, memo, change) == change
    assert to_write(body, memo, {**change, "lastSyncTime": "2026-12-02T10:06:00Z"}) == {
        "phase": "Updating",
        "lastSyncTime": "2026-12-02T10:06:00Z",
    }


def test_the_diff_base_goes_in_status_and_the_old_annotation_is_still_read() -> None:
    storage = StatusDiffBase()
    essence = {"spec": {"keys": {"partition": {"name": "pk"}}}}
    old = kopf.Body(
        {
            "metadata": {"annotations": {"upskill.io/last-handled-configuration": '{"spec":{"old":1}}'}},
            "spec": {},
        }
    )
    assert storage.fetch(body=old) == {"spec": {"old": 1}}
    patch = kopf.Patch()
    storage.store(body=old, patch=patch, essence=kopf.BodyEssence(**essence))  # type: ignore[typeddict-item]
    assert dict(patch) == {"status": {"lastHandledConfiguration": '{"spec":{"keys":{"partition":{"name":"pk"}}}}'}}
    new = kopf.Body({"metadata": {}, "status": dict(patch["status"])})
    assert storage.fetch(body=new) == essence
