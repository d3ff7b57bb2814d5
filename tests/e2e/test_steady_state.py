"""Zero writes at steady state: once everything is Ready, resyncs, probes and migrations write nothing.

Tables (one probed, one with CloudWatch alarms), a database with its proxy, read-only endpoint, probe,
alarms and migrations (backed by the real PostgreSQL), a generated secret and a database-URL secret are
brought to Ready. Then the bed watches several resync intervals, refresh ticks, probe rounds and sweeps,
and every write is counted: each PATCH, PUT, POST or DELETE the Kubernetes emulator serves for these objects, their
Secrets and ConfigMaps, every Event about them, and every mutating AWS call (``is_mutating``).
There must be none. Reads are not counted here (another test bounds those).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import NAMESPACE, Bed, condition, is_ready, wait_for
from e2e.db_support import backed_operator, db_doc
from e2e.secret_support import secret_doc
from e2e.test_tables import table_doc

pytestmark = pytest.mark.e2e

WRITES = ("PATCH", "PUT", "POST", "DELETE")
RESYNC = 1.5
WINDOW = 12.0
"""Eight resyncs, a refresh of each secret (10 s), sixty probe rounds and a dozen sweeps."""
SLO_MS = 60_000
"""The widest objective the CRD allows. This test hunts false writes. A real SLO breach (a probe slowed past
the objective on a loaded CI machine: 1.2 s measured) is a true transition and would be rightly written."""

KINDS = {"table": "upskilltables", "database": "upskilldatabases", "secret": "upskillsecrets"}


@pytest.fixture
def operator(bed: Bed, pg_url: str) -> Iterator[OperatorThread]:
    fast = {
        "resync_seconds": RESYNC,
        "kind_resync_seconds": {"UpskillDatabase": RESYNC},
        "requeue_seconds": 0.5,
        "secret_tick_seconds": 0.5,
        "probe_interval_seconds": 0.2,
        "sweep_seconds": 1.0,
        "sweep_grace_seconds": 1.0,
        "aws": bed.settings.aws.model_copy(update={"calls_per_second": {}}),
    }
    with backed_operator(bed, pg_url, **fast) as running:
        yield running


def _stack(suffix: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """name -> (plural, document) of every object of the stack."""
    db = f"steady-db-{suffix}"
    spec = {
        "databaseName": f"steady_{suffix}",
        "migrations": {"set": "course"},
        "probe": {"sloMilliseconds": SLO_MS},
        "monitoring": {},  # CloudWatch alarms: read every pass, written never at steady state
    }
    target = {"secretName": f"steady-env-{suffix}", "refreshIntervalSeconds": 10}
    docs = {
        f"steady-t1-{suffix}": (KINDS["table"], table_doc(f"steady-t1-{suffix}", monitoring={})),
        f"steady-t2-{suffix}": (
            KINDS["table"],
            table_doc(f"steady-t2-{suffix}", probe={"sloMilliseconds": SLO_MS}, connection=None),
        ),
        db: (KINDS["database"], db_doc("course", db, **spec)),
        f"steady-gen-{suffix}": (
            KINDS["secret"],
            secret_doc(f"steady-gen-{suffix}", {"generate": {"length": 32}}, target={**target, "key": "TOKEN"}),
        ),
        f"steady-url-{suffix}": (
            KINDS["secret"],
            secret_doc(
                f"steady-url-{suffix}",
                {"database": {"ref": db, "endpoint": "proxy", "format": "url"}},
                target={**target, "key": "DB_URL"},
            ),
        ),
    }
    for _, doc in docs.values():
        doc["spec"] = {k: v for k, v in doc["spec"].items() if v is not None}
    return docs


def _settled(bed: Bed, docs: dict[str, tuple[str, dict[str, Any]]]) -> bool:
    for name, (plural, _) in docs.items():
        obj = bed.get(plural, name)
        if not is_ready(obj):
            return False
        if plural == KINDS["database"] and condition(obj, "MigrationsApplied").get("status") != "True":
            return False
        if (obj or {}).get("spec", {}).get("probe") and not (obj or {}).get("status", {}).get("latency"):
            return False
    return True


def _events_about(bed: Bed, names: set[str]) -> set[str]:
    events = bed.kube.list("v1", "events", NAMESPACE)
    return {e["metadata"]["name"] for e in events if (e.get("involvedObject") or {}).get("name") in names}


def kube_writes(bed: Bed, names: set[str], paths: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The writes among ``paths`` that name one of the objects, their Secrets or ConfigMaps."""
    return [(m, p) for m, p in paths if m in WRITES and any(f"/{n}" in p for n in names)]


def _status_changes(before: dict[str, Any], after: dict[str, Any]) -> str:
    """What the writes changed in each object's status (to tell a real transition from a false write)."""
    lines = []
    for name, old in before.items():
        new, old = after.get(name) or {}, old or {}
        keys = sorted(set(old) | set(new))
        lines.extend(f"{name}.status.{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys if old.get(k) != new.get(k))
    return "status changes in the window:\n" + "\n".join(lines or ["(none left: the writes wrote the same values)"])


def test_steady_state_writes_nothing_to_kubernetes_or_aws(bed: Bed, operator: OperatorThread) -> None:
    suffix = uuid.uuid4().hex[:6]
    docs = _stack(suffix)
    owned = {f"steady-env-{suffix}", f"steady-t1-{suffix}-table"}  # the Secret and the ConfigMap they write
    names = set(docs) | owned
    for _, doc in docs.values():
        bed.apply(doc)
    try:
        wait_for(lambda: _settled(bed, docs), 120, "the stack Ready, migrated and probed")
        time.sleep(2 * RESYNC)  # the passes under way when the last object turned Ready finish

        events_before = _events_about(bed, names)
        before = {name: (bed.get(plural, name) or {}).get("status") for name, (plural, _) in docs.items()}
        bed.kube.requests.clear()
        bed.calls.clear()
        time.sleep(WINDOW)
        served = bed.kube.requests.snapshot()
        mutating = bed.calls.mutating()
        events = _events_about(bed, names) - events_before

        passes = sum(1 for m, p in served if m == "GET" and any(f"/{n}" in p for n in docs))
        assert bed.calls.calls, "the window saw no AWS call at all: nothing resynced"
        assert passes or len(bed.calls.calls) > len(docs), "the window saw no resync"
        after = {name: (bed.get(plural, name) or {}).get("status") for name, (plural, _) in docs.items()}
        assert Counter(kube_writes(bed, names, served)) == Counter(), _status_changes(before, after)
        assert sorted(events) == []
        assert mutating == []
    finally:
        for name, (plural, _) in docs.items():
            bed.delete(plural, name)
        wait_for(lambda: all(bed.get(p, n) is None for n, (p, _) in docs.items()), 120, "the stack deleted")


def table_writes(bed: Bed, name: str) -> list[tuple[str, str]]:
    """Writes the emulator served on one UpskillTable (the object and its /status), the user's create aside."""
    own = (f"/upskilltables/{name}", f"/upskilltables/{name}/status")
    return [(m, p.rsplit("/", 1)[-1]) for m, p in bed.kube.requests.snapshot() if m in WRITES and p.endswith(own)]


def test_a_table_costs_two_writes_to_create_and_one_to_change(bed: Bed) -> None:
    saved = bed.settings
    bed.settings = saved.model_copy(update={"resync_seconds": 600.0})  # creation and change only
    bed.start_operator()
    names = [f"writes-{i}-{uuid.uuid4().hex[:6]}" for i in range(3)]
    try:
        bed.kube.requests.clear()
        for name in names:
            bed.apply(table_doc(name))
        wait_for(lambda: all(is_ready(bed.get(KINDS["table"], n)) for n in names), 30, "tables Ready")
        time.sleep(1.0)  # anything kopf still had to write after Ready
        for name in names:  # the finalizer first (crash safety), then status with kopf's diff base
            assert table_writes(bed, name) == [("PATCH", name), ("PATCH", "status")]

        bed.kube.requests.clear()
        bed.apply(table_doc(names[0], tags={"team": "platform"}))
        wait_for(lambda: is_ready(obj := bed.get(KINDS["table"], names[0])) and obj["metadata"]["generation"] == 2, 30)
        time.sleep(1.0)
        assert table_writes(bed, names[0]) == [("PATCH", names[0]), ("PATCH", "status")]  # the user's, then ours
    finally:
        for name in names:
            bed.delete(KINDS["table"], name)
        wait_for(lambda: all(bed.get(KINDS["table"], n) is None for n in names), 30, "tables deleted")
        bed.stop_operator()
        bed.settings = saved
