"""The stuck-object sweeper's decisions: what owes work, and when an object has waited long enough."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pytest

from upskill_operator.background.sweeper import NUDGE_ANNOTATION, Nudge, Sweeper, pending_work
from upskill_operator.errors import TerminalError
from upskill_operator.models import KINDS

FINALIZER = "upskill.io/finalizer"
NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
TABLE = next(info for info in KINDS if info.kind == "UpskillTable")


def obj(
    generation: int = 1,
    observed: int | None = 1,
    *,
    annotations: Mapping[str, str] | None = None,
    deleting: bool = False,
    finalizers: tuple[str, ...] = (FINALIZER,),
    version: str = "10",
    name: str = "t",
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "ns",
        "uid": f"uid-{name}",
        "generation": generation,
        "resourceVersion": version,
        "finalizers": list(finalizers),
        "annotations": dict(annotations or {}),
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T11:00:00Z"
    body: dict[str, Any] = {"metadata": meta, "spec": {}}
    if observed is not None:
        body["status"] = {"observedGeneration": observed, "phase": "Ready"}
    return body


def progress(delayed: dt.datetime | None, *, naive: bool = False) -> str:
    """A progress record as kopf 1.45 writes it under its storage prefix."""
    record: dict[str, Any] = {"started": "2026-01-01T11:59:00.000000+00:00", "purpose": "update", "retries": 1}
    record.update(success=False, failure=False, message="Requeued: waiting")
    if delayed is not None:
        stamp = delayed.replace(tzinfo=None) if naive else delayed
        record["delayed"] = stamp.isoformat(timespec="microseconds")
    return json.dumps(record)


LAST_HANDLED = {"upskill.io/last-handled-configuration": json.dumps({"spec": {"keys": {}}})}
LATER = NOW + dt.timedelta(seconds=30)
LONG_AGO = NOW - dt.timedelta(seconds=300)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(obj(), None, id="up-to-date"),
        pytest.param(obj(annotations=LAST_HANDLED), None, id="kopf's diff base is no progress record"),
        pytest.param(obj(2, 1), "generation", id="spec newer than status"),
        pytest.param(obj(observed=None), "status-missing", id="never reported"),
        pytest.param(obj(2, 1, deleting=True), "deletion", id="deleting with our finalizer"),
        pytest.param(obj(2, 1, deleting=True, finalizers=("other/x",)), None, id="deleting, our finalizer gone"),
        pytest.param(obj(2, 1, annotations={"upskill.io/reconcile": progress(LATER)}), None, id="retry to come"),
        pytest.param(
            obj(annotations={"upskill.io/reconcile": progress(NOW - dt.timedelta(seconds=10))}),
            None,
            id="retry just due: kopf gets the grace period",
        ),
        pytest.param(
            obj(annotations={"upskill.io/reconcile": progress(LONG_AGO)}), "retry-overdue", id="retry overdue"
        ),
        pytest.param(
            obj(annotations={"upskill.io/reconcile": progress(LONG_AGO, naive=True)}),
            "retry-overdue",
            id="naive timestamps are UTC",
        ),
        pytest.param(
            obj(2, 1, deleting=True, annotations={"upskill.io/finalize": progress(LATER)}),
            None,
            id="deletion waiting for AWS",
        ),
        pytest.param(obj(annotations={"upskill.io/reconcile": progress(None)}), "retry-overdue", id="record, no retry"),
        pytest.param(obj(annotations={"upskill.io/reconcile": "{not json"}), None, id="unreadable record ignored"),
        pytest.param(obj(annotations={NUDGE_ANNOTATION: NOW.isoformat()}), None, id="our own nudge"),
    ],
)
def test_pending_work(body: dict[str, Any], expected: str | None) -> None:
    assert pending_work(body, finalizer=FINALIZER, now=NOW, grace=60.0) == expected


class Cluster:
    """A fake listing, and a record of the nudges (each moves the resourceVersion, as a real patch does)."""

    def __init__(self, *objects: dict[str, Any]) -> None:
        self.objects = {o["metadata"]["name"]: o for o in objects}
        self.nudged: list[tuple[str, str, str, dict[str, str]]] = []

    def list(self, plural: str) -> list[dict[str, Any]]:
        return list(self.objects.values())

    def nudge(self, plural: str, namespace: str, name: str, annotations: Mapping[str, str]) -> bool:
        self.nudged.append((plural, namespace, name, dict(annotations)))
        found = self.objects.get(name)
        if found is None:
            return False
        found["metadata"]["annotations"].update(annotations)
        found["metadata"]["resourceVersion"] = str(int(found["metadata"]["resourceVersion"]) + 1)
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sweeper(cluster: Cluster, clock: Clock, grace: float = 60.0) -> Sweeper:
    return Sweeper(
        [TABLE], cluster.list, cluster.nudge, finalizer=FINALIZER, grace=grace, clock=clock, wall=lambda: NOW
    )


def test_a_stuck_object_is_nudged_once_per_grace_period() -> None:
    cluster, clock = Cluster(obj(2, 1, name="stuck"), obj(name="fine")), Clock()
    sweep = sweeper(cluster, clock)
    assert sweep.sweep() == []  # first sighting starts the clock
    clock.now = 59.0
    assert sweep.sweep() == []
    clock.now = 60.0
    assert sweep.sweep() == [Nudge("UpskillTable", "ns", "stuck", "generation")]
    assert cluster.nudged == [("upskilltables", "ns", "stuck", {NUDGE_ANNOTATION: "2026-01-01T12:00:00.000000Z"})]
    clock.now = 61.0
    assert sweep.sweep() == [], "the nudge moved the resourceVersion: the clock starts again"
    clock.now = 121.0
    assert len(sweep.sweep()) == 1, "still stuck a grace period later: nudged again"


def test_an_object_that_moves_is_not_stuck() -> None:
    cluster, clock = Cluster(obj(2, 1)), Clock()
    sweep = sweeper(cluster, clock)
    sweep.sweep()
    for step in range(1, 5):
        clock.now = step * 50.0
        cluster.objects["t"]["metadata"]["resourceVersion"] = str(100 + step)  # kopf is working on it
        assert sweep.sweep() == []
    cluster.objects["t"]["status"]["observedGeneration"] = 2
    clock.now = 1000.0
    assert sweep.sweep() == []
    assert cluster.nudged == []


def test_an_object_that_catches_up_and_falls_behind_again_waits_a_full_grace_period() -> None:
    cluster, clock = Cluster(obj(2, 1)), Clock()
    sweep = sweeper(cluster, clock)
    sweep.sweep()
    clock.now = 30.0
    cluster.objects["t"]["status"]["observedGeneration"] = 2
    sweep.sweep()
    clock.now = 70.0
    cluster.objects["t"]["metadata"]["generation"] = 3
    assert sweep.sweep() == []
    clock.now = 129.0
    assert sweep.sweep() == []
    clock.now = 130.0
    assert [n.reason for n in sweep.sweep()] == ["generation"]


def test_an_object_deleted_meanwhile_is_not_counted() -> None:
    cluster, clock = Cluster(obj(2, 1)), Clock()
    sweep = Sweeper(
        [TABLE], cluster.list, lambda *_: False, finalizer=FINALIZER, grace=60.0, clock=clock, wall=lambda: NOW
    )
    sweep.sweep()
    clock.now = 60.0
    assert sweep.sweep() == [], "the patch found nothing (404): no nudge to report"


def test_an_object_missing_from_a_listing_is_forgotten() -> None:
    cluster, clock = Cluster(obj(2, 1)), Clock()
    sweep = sweeper(cluster, clock)
    sweep.sweep()
    hidden = cluster.objects.pop("t")
    clock.now = 40.0
    sweep.sweep()
    cluster.objects["t"] = hidden
    clock.now = 80.0
    assert sweep.sweep() == [], "seen again: a new first sighting"
    clock.now = 140.0
    assert len(sweep.sweep()) == 1


def test_a_refused_nudge_does_not_stop_the_sweep() -> None:
    cluster, clock = Cluster(obj(2, 1, name="a"), obj(2, 1, name="b")), Clock()

    def refuse_a(plural: str, namespace: str, name: str, annotations: Mapping[str, str]) -> bool:
        if name == "a":
            raise TerminalError("annotating upskilltables/a: Kubernetes API refused with 403 Forbidden")
        return cluster.nudge(plural, namespace, name, annotations)

    sweep = Sweeper([TABLE], cluster.list, refuse_a, finalizer=FINALIZER, grace=60.0, clock=clock, wall=lambda: NOW)
    sweep.sweep()
    clock.now = 60.0
    assert [n.name for n in sweep.sweep()] == ["b"]
