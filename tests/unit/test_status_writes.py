"""Status is written only when it changes: the diff the handlers write, and the stamps kept in memory."""

from __future__ import annotations

from typing import Any

import kopf
import pytest

from upskill_operator.handlers.lifecycle import StatusDiffBase
from upskill_operator.handlers.resource import READ_YOUR_WRITES_SECONDS, snapshot_of, to_write
from upskill_operator.status import Asserted, assert_condition, changes, same_status, with_asserted

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


def test_a_write_the_body_does_not_show_yet_is_not_repeated_but_a_lost_one_is() -> None:
    """A late body is no reason to write again; a write still missing after the bound was lost: written again."""
    memo = kopf.Memo()
    body = kopf.Body({"metadata": {"name": "t"}, "status": HELD})
    change = {"phase": "Updating", "lastSyncTime": "2026-12-02T10:05:00Z"}
    assert to_write(body, memo, change) == change
    again = {**change, "lastSyncTime": "2026-12-02T10:06:00Z"}
    assert to_write(body, memo, again) == {}
    memo["written_at"] -= READ_YOUR_WRITES_SECONDS
    assert to_write(body, memo, again) == again


MIGRATED = {"type": "MigrationsApplied", "status": "True", "reason": "Applied", "lastTransitionTime": "T8"}
DB_STATUS: dict[str, Any] = {"phase": "Ready", "conditions": READY[:1], "lastSyncTime": "T6"}


def _late_body() -> kopf.Body:
    """A database body older than the migrations loop's write (the object's kopf worker was busy)."""
    return kopf.Body({"metadata": {"name": "db"}, "spec": {"migrations": {"set": "course"}}, "status": DB_STATUS})


def _memo_after_migrations() -> kopf.Memo:
    memo = kopf.Memo()
    to_write(kopf.Body({"metadata": {"name": "db"}, "status": {}}), memo, DB_STATUS)  # our write: no migrations
    store: Asserted = memo.setdefault("asserted_conditions", {})
    assert_condition(store, [*READY[:1], MIGRATED], "MigrationsApplied", "migrations")  # the loop's, later
    return memo


def test_a_pass_from_a_late_body_keeps_the_loops_condition_and_writes_nothing() -> None:
    memo = _memo_after_migrations()
    seen = snapshot_of(_late_body(), memo)["status"]
    assert [c["type"] for c in seen["conditions"]] == ["Ready", "MigrationsApplied"]
    assert seen["conditions"][1]["lastTransitionTime"] == "T8"
    steady = {**DB_STATUS, "conditions": seen["conditions"], "lastSyncTime": "T12"}
    assert to_write(_late_body(), memo, steady) == {}


def test_a_real_change_from_a_late_body_carries_the_loops_condition() -> None:
    memo = _memo_after_migrations()
    seen = snapshot_of(_late_body(), memo)["status"]
    change = {**DB_STATUS, "phase": "Updating", "conditions": seen["conditions"], "lastSyncTime": "T12"}
    written = to_write(_late_body(), memo, change)
    assert written["phase"] == "Updating"
    assert "conditions" not in written  # the server holds them already: the merge patch leaves them


def test_a_loops_condition_is_not_laid_once_the_spec_no_longer_asks_for_it() -> None:
    memo = _memo_after_migrations()
    body = kopf.Body({"metadata": {"name": "db"}, "spec": {}, "status": {**DB_STATUS, "conditions": READY[:1]}})
    assert [c["type"] for c in snapshot_of(body, memo)["status"]["conditions"]] == ["Ready"]


def test_with_asserted_replaces_in_place_and_assert_condition_forgets_an_absent_one() -> None:
    stale = {**MIGRATED, "status": "False", "reason": "Failed"}
    store: Asserted = {}
    assert_condition(store, [MIGRATED], "MigrationsApplied", "migrations")
    laid = with_asserted([stale, READY[0]], store, {"migrations": {"set": "s"}})
    assert laid == [MIGRATED, READY[0]]
    assert_condition(store, [READY[0]], "MigrationsApplied", "migrations")
    assert store == {}


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
