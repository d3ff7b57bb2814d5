"""Kubernetes API faults: dropped watches, 500s, and a restart mid-deletion.

In every case no update may be lost and no finalizer left dangling. (409s on kopf's own
patches are not covered yet: kopf 1.45 throttles them and then waits for a watch event
that never comes — see the issue 7 notes.)
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from upskill_operator.aws.session import ATTEMPT_OBSERVERS
from upskill_operator.sandbox.operator_thread import OperatorThread

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
        ATTEMPT_OBSERVERS.append(on_delete)
        bed.delete("upskilltables", name)
        assert deleting.wait(15)
    finally:
        bed.stop_operator()  # dies in the middle of its finalizer
        if on_delete in ATTEMPT_OBSERVERS:
            ATTEMPT_OBSERVERS.remove(on_delete)
    left = bed.get("upskilltables", name)
    if left is not None:  # the deletion was interrupted: a new operator must finish it
        assert left["metadata"].get("finalizers")
        bed.start_operator()
        try:
            wait_for(lambda: bed.get("upskilltables", name) is None, 20, "finalizer released after restart")
        finally:
            bed.stop_operator()
    assert f"upskill-{NAMESPACE}-{name}" not in bed.boto("dynamodb").list_tables()["TableNames"]
