"""Kubernetes API faults: dropped watches, 500s, 409s on kopf's own patches, a restart mid-deletion.

In every case no update may be lost and no finalizer left dangling.

A 409 on one of kopf's own PATCHes is the one kopf 1.45 does not survive alone: it throttles, then
waits for a watch event that the lost PATCH was meant to cause. The 409 tests run an operator whose
resync is an hour away, so that only the stuck-object sweeper (background/sweeper.py) can recover the
object, and they check that it was the sweeper that did.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import REGISTRY

from upskill_operator.background.sweeper import NUDGE_ANNOTATION
from upskill_sandbox.faults import FaultInjector
from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import NAMESPACE, Bed, is_ready, wait_for

pytestmark = pytest.mark.e2e


def doc(name: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "keys": {"partition": {"name": "pk", "type": "S"}},
        "deletionProtection": False,
        "deletionPolicy": "Delete",
    }
    body.update(spec)
    return {"apiVersion": "upskill.io/v1alpha1", "kind": "UpskillTable", "metadata": {"name": name}, "spec": body}


def unique() -> str:
    return f"kf-{uuid.uuid4().hex[:6]}"


def ready(bed: Bed, name: str) -> dict[str, Any]:
    return wait_for(lambda: (o := bed.get("upskilltables", name)) and is_ready(o) and o, 30, f"{name} Ready")


def ttl_of(bed: Bed, name: str) -> str | None:
    desc = bed.boto("dynamodb").describe_time_to_live(TableName=f"upskill-{NAMESPACE}-{name}")
    return desc["TimeToLiveDescription"].get("AttributeName")


def test_dropped_watch_loses_no_update(bed: Bed, operator: OperatorThread) -> None:
    name = unique()
    bed.apply(doc(name))
    ready(bed, name)
    bed.kube.inject_fault("GET", r"upskilltables.*watch", drop_watch=True, times=3)
    assert bed.kube.drop_watches() >= 1
    bed.apply(doc(name, ttlAttribute="expiresAt"))
    ready(bed, name)
    wait_for(lambda: ttl_of(bed, name) == "expiresAt", 20, "TTL applied after watch drops")


def test_api_server_errors_are_survived(bed: Bed, operator: OperatorThread) -> None:
    name = unique()
    fault = bed.kube.inject_fault("PATCH", r"upskilltables", status=500, times=5)
    bed.apply(doc(name))
    ready(bed, name)
    assert fault.hits == 5


def test_restart_during_deletion_leaves_no_finalizer_and_no_table(bed: Bed) -> None:
    name = unique()
    deleting = threading.Event()

    def on_delete(service: str, operation: str) -> None:
        if operation == "DeleteTable":
            deleting.set()

    bed.start_operator()
    try:
        bed.apply(doc(name))
        ready(bed, name)
        bed.hooks.attempts.append(on_delete)
        bed.delete("upskilltables", name)
        assert deleting.wait(15)
    finally:
        bed.stop_operator()  # dies in the middle of its finalizer
        if on_delete in bed.hooks.attempts:
            bed.hooks.attempts.remove(on_delete)
    left = bed.get("upskilltables", name)
    if left is not None:  # the deletion was interrupted: a new operator must finish it
        assert left["metadata"].get("finalizers")
        bed.start_operator()
        try:
            wait_for(lambda: bed.get("upskilltables", name) is None, 20, "finalizer released after restart")
        finally:
            bed.stop_operator()
    assert f"upskill-{NAMESPACE}-{name}" not in bed.boto("dynamodb").list_tables()["TableNames"]


@pytest.fixture
def sweeping(bed: Bed) -> Iterator[OperatorThread]:
    """An operator whose resync timer never fires within a test: a stuck object can only be woken by the sweeper."""
    settings = bed.settings.model_copy(
        update={"resync_seconds": 3600.0, "requeue_seconds": 2.0, "sweep_seconds": 0.5, "sweep_grace_seconds": 1.0}
    )
    with OperatorThread(settings, bed.hooks) as running:
        yield running


def nudges(reason: str) -> float:
    value = REGISTRY.get_sample_value("upskill_sweeper_nudges_total", {"kind": "UpskillTable", "reason": reason})
    return value or 0.0


def gone(bed: Bed, name: str) -> None:
    """Deleted: the finalizer released and the table deleted in AWS."""
    bed.delete("upskilltables", name)
    wait_for(lambda: bed.get("upskilltables", name) is None, 20, f"{name} deleted, finalizer released")
    assert f"upskill-{NAMESPACE}-{name}" not in bed.boto("dynamodb").list_tables()["TableNames"]


def test_conflict_on_the_status_patch_loses_no_update(bed: Bed, sweeping: OperatorThread) -> None:
    name = unique()
    bed.apply(doc(name))
    ready(bed, name)
    before = nudges("generation")
    fault = bed.kube.inject_fault("PATCH", rf"/upskilltables/{name}/status$", status=409, times=1)
    bed.apply(doc(name, ttlAttribute="expiresAt"))
    wait_for(lambda: ttl_of(bed, name) == "expiresAt", 20, "TTL applied despite the 409")
    caught_up = ready(bed, name)  # Ready for generation 2: status caught up with the spec
    assert fault.hits == 1
    assert caught_up["metadata"]["generation"] == 2, "the nudge is metadata: no new generation"
    assert caught_up["status"]["observedGeneration"] == 2
    assert NUDGE_ANNOTATION in caught_up["metadata"]["annotations"], "woken by the sweeper"
    assert nudges("generation") == before + 1
    gone(bed, name)


def test_conflict_on_the_finalizer_removal_leaves_no_finalizer(bed: Bed, sweeping: OperatorThread) -> None:
    name = unique()
    bed.apply(doc(name))
    ready(bed, name)
    before = nudges("deletion")
    fault = bed.kube.inject_fault("PATCH", rf"/upskilltables/{name}$", status=409, times=1)
    gone(bed, name)
    assert fault.hits == 1
    assert nudges("deletion") == before + 1


def test_conflict_on_the_wake_up_of_a_retry_loses_no_retry(bed: Bed, sweeping: OperatorThread) -> None:
    """kopf wakes a delayed retry with a "touch" PATCH; when that one gets the 409, the retry waits for nothing."""
    name = unique()
    before = nudges("retry-overdue")
    failing = FaultInjector(1.0, kinds=("500",), services=["dynamodb"])
    bed.hooks.attempts.append(failing)
    try:
        bed.apply(doc(name))

        def retry_scheduled() -> bool:
            annotations = (bed.get("upskilltables", name) or {}).get("metadata", {}).get("annotations") or {}
            return "delayed" in annotations.get("upskill.io/reconcile", "")

        wait_for(retry_scheduled, 20, "a retry scheduled (Recoverable)")
        fault = bed.kube.inject_fault("PATCH", rf"/upskilltables/{name}$", status=409, times=1)
    finally:
        bed.hooks.attempts.remove(failing)
    ready(bed, name)
    assert fault.hits == 1
    assert nudges("retry-overdue") == before + 1
    gone(bed, name)
