"""A background loop's condition keeps its transition time when a reconcile pass's stale list drops it.

kopf applies a pass's status patch without a resourceVersion, after the pass: computed before the loop's
write, it can land after it and replace the conditions list without the loop's entry. The loop's next
write must put the entry back as it was, not as a new transition (CI caught a MigrationsApplied
``lastTransitionTime`` moving by one second at steady state).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from upskill_operator.background import migrator as migrator_module
from upskill_operator.background import probe_loop
from upskill_operator.background.migrator import Migrator
from upskill_operator.models.database import KIND
from upskill_operator.probes.window import Verdict

READY = {"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": "T0"}


class FakeStatusServer:
    """One object's status, with the API server's resourceVersion check on a status PATCH."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.obj: dict[str, Any] = {
            "metadata": {"name": "db", "namespace": "ns", "generation": 1, "resourceVersion": "1"},
            "spec": spec,
            "status": {"conditions": [READY]},
        }
        self.before_next_get: list[dict[str, Any]] = []  # stale pass patches to land between a GET and a PATCH

    def get_namespaced_custom_object(self, *_: Any) -> dict[str, Any]:
        return copy.deepcopy(self.obj)

    def patch_namespaced_custom_object_status(self, *args: Any) -> None:
        body = args[-1]
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        while self.before_next_get:
            self.merge(self.before_next_get.pop(0))
        if wanted and wanted != self.obj["metadata"]["resourceVersion"]:
            raise ApiException(status=409, reason="Conflict")
        self.merge(body["status"])

    def merge(self, status: dict[str, Any]) -> None:
        """A merge patch: a list is replaced whole."""
        self.obj["status"] = {**self.obj["status"], **copy.deepcopy(status)}
        self.obj["metadata"]["resourceVersion"] = str(int(self.obj["metadata"]["resourceVersion"]) + 1)

    def condition(self, ctype: str) -> dict[str, Any] | None:
        return next((c for c in self.obj["status"]["conditions"] if c["type"] == ctype), None)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = (f"2026-12-07T17:06:{n:02d}Z" for n in itertools.count(30))
    monkeypatch.setattr(migrator_module, "now", lambda: next(ticks))
    monkeypatch.setattr(probe_loop, "now", lambda: next(ticks))


def _runtime(server: FakeStatusServer) -> Any:
    async def run(pool: str, work: Any) -> Any:
        assert pool == "migrations"  # a loop's own pool, never the event loop's default one
        return work()

    return SimpleNamespace(kube=SimpleNamespace(custom=server), run=run)


@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize("conflict", [False, True], ids=["dropped after the write", "dropped during the write"])
def test_the_migrations_condition_keeps_its_transition_time(conflict: bool) -> None:
    server = FakeStatusServer({"migrations": {"set": "course"}})
    migrator = Migrator(KIND, _runtime(server), server.obj, logging.getLogger("test"))
    migrator.verdict = Verdict("True", "Applied", "3 of set course applied")
    stale_pass = {"conditions": [READY]}  # a pass computed before the loop's first write
    if conflict:
        server.before_next_get.append(stale_pass)  # lands between the loop's GET and its PATCH: a 409, a retry
    asyncio.run(migrator.write())
    first = server.condition("MigrationsApplied")
    assert first is not None
    if not conflict:
        server.merge(stale_pass)
        assert server.condition("MigrationsApplied") is None
        asyncio.run(migrator.write())  # the loop sees its condition gone and puts it back
    held = server.condition("MigrationsApplied")
    assert held is not None
    assert held["lastTransitionTime"] == "2026-12-07T17:06:30Z"
    assert migrator.asserted["MigrationsApplied"][1] == held  # what the passes lay over is what the server holds


@pytest.mark.usefixtures("clock")
def test_a_real_transition_still_gets_a_new_time() -> None:
    server = FakeStatusServer({"migrations": {"set": "course"}})
    migrator = Migrator(KIND, _runtime(server), server.obj, logging.getLogger("test"))
    migrator.verdict = Verdict("True", "Applied", "applied")
    asyncio.run(migrator.write())
    server.merge({"conditions": [READY]})
    migrator.verdict = Verdict("False", "MigrationFailed", "0004 failed")
    asyncio.run(migrator.write())
    held = server.condition("MigrationsApplied")
    assert held is not None
    assert (held["status"], held["lastTransitionTime"]) == ("False", "2026-12-07T17:06:31Z")


@pytest.mark.usefixtures("clock")
def test_the_latency_condition_keeps_its_transition_time() -> None:
    server = FakeStatusServer({"probe": {"enabled": True}})
    asserted: dict[str, Any] = {}
    verdict = Verdict("True", "WithinSLO", "p99 4 ms")
    kube = _runtime(server).kube
    assert probe_loop._write(kube, KIND, ("ns", "db"), {}, verdict, asserted, refresh=False)
    server.merge({"conditions": [READY]})  # a stale pass's list
    assert probe_loop._write(kube, KIND, ("ns", "db"), {}, verdict, asserted, refresh=False)
    held = server.condition("LatencyWithinSLO")
    assert held is not None
    assert held["lastTransitionTime"] == "2026-12-07T17:06:30Z"


class QuickProber:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    async def probe(self) -> float:
        return 0.001

    async def close(self) -> None:
        return None


def test_the_latency_condition_names_new_endpoints_at_the_next_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader endpoint published after the first verdict is named at once, not at the coarse status cadence."""
    from upskill_operator.background.probe_loop import ProbeLoop
    from upskill_operator.probes.plan import ProbePlan
    from upskill_operator.probes.window import ProbeSettings

    endpoints: list[str] = ["proxy"]
    written: list[str] = []
    settings = ProbeSettings(interval_seconds=1.0, slo_seconds=0.1, timeout_seconds=1.0)
    monkeypatch.setattr(
        probe_loop,
        "plan_for",
        lambda *_, **__: ProbePlan(tuple(endpoints), settings, lambda: [QuickProber(e) for e in endpoints]),
    )
    monkeypatch.setattr(probe_loop, "_write", lambda *args: written.append(args[4].message) or True)

    async def run(pool: str, work: Any) -> Any:
        return work()

    runtime = SimpleNamespace(
        settings=SimpleNamespace(requeue_seconds=0.5, probe_status_seconds=300.0), aws=None, kube=None, run=run
    )
    loop = ProbeLoop(KIND, runtime, ("ns", "db"), logging.getLogger("test"))  # type: ignore[arg-type]

    def body() -> dict[str, Any]:
        if not written:
            return {"status": {}}
        shown = {"type": "LatencyWithinSLO", "status": "True", "reason": "WithinSLO", "message": written[-1]}
        return {"status": {"conditions": [shown]}}

    async def rounds() -> None:
        await loop.round(body())
        await loop.round(body())  # the same endpoints, the verdict shown: nothing to write
        endpoints.append("proxyReadOnly")
        await loop.round(body())
        await loop.close()

    asyncio.run(rounds())
    assert [m.split(" <= ")[0] for m in written] == ["proxy: p99 1 ms", "proxy: p99 1 ms; proxyReadOnly: p99 1 ms"]
