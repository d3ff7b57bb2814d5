"""The migrations daemon never waits for good: a late watch, a long run, a fixed spec after a failure."""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from test_loop_conditions import READY, FakeStatusServer

from upskill_operator.background import migrator as migrator_module
from upskill_operator.background.migrator import Migrator
from upskill_operator.db.migrations import MigrationReport
from upskill_operator.errors import RecoverableError
from upskill_operator.models.database import KIND

READY_1 = {**READY, "observedGeneration": 1}
NOT_READY = {
    "type": "Ready",
    "status": "False",
    "reason": "Creating",
    "lastTransitionTime": "T0",
    "observedGeneration": 1,
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class CountingServer(FakeStatusServer):
    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__(spec)
        self.obj["status"]["conditions"] = [READY_1]
        self.gets = 0

    def get_namespaced_custom_object(self, *args: Any) -> dict[str, Any]:
        self.gets += 1
        return super().get_namespaced_custom_object(*args)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(migrator_module, "time", fake)
    return fake


def _runtime(server: FakeStatusServer, *, threaded: bool = False) -> Any:
    async def run(pool: str, work: Any) -> Any:
        assert pool == "migrations"
        return await asyncio.to_thread(work) if threaded else work()

    settings = SimpleNamespace(requeue_seconds=0.5, resync_seconds=600.0, kind_resync_seconds={})
    return SimpleNamespace(kube=SimpleNamespace(custom=server), run=run, settings=settings, aws=None)


def _report() -> MigrationReport:
    return MigrationReport("course", 3, (), "0003_app_roles")


def test_a_late_watch_does_not_hold_the_run(clock: Clock, monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    """kopf's body still says not Ready; the API says Ready: the run starts on the API's copy within the first
    interval, and the log says the watch is behind."""
    server = CountingServer({"migrations": {"set": "course"}})
    watched = copy.deepcopy(server.obj)
    watched["status"]["conditions"] = [NOT_READY]
    ran: list[dict[str, Any]] = []
    monkeypatch.setattr(
        migrator_module, "apply_database_migrations", lambda body, *_, **__: ran.append(body) or _report()
    )
    migrator = Migrator(KIND, _runtime(server), watched, logging.getLogger("test"))

    async def rounds() -> list[bool]:
        seen = []
        for _ in range(3):
            seen.append(await migrator.due())
            clock.now += 4.0
        assert server.gets == 0, "the API was read before the first interval had passed"
        clock.now += 10.0
        seen.append(await migrator.due())
        if seen[-1]:
            await migrator.run()
        return seen

    with caplog.at_level(logging.WARNING):
        assert asyncio.run(rounds()) == [False, False, False, True]
    assert len(ran) == 1
    assert ran[0]["status"]["conditions"] == [READY_1]  # the API's copy, Ready
    assert (server.condition("MigrationsApplied") or {}).get("status") == "True"
    assert "the watch still shows" in caplog.text


def test_the_api_is_read_at_doubling_intervals_and_never_once_the_watch_shows_ready(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = CountingServer({"migrations": {"set": "course"}})
    server.obj["status"]["conditions"] = [NOT_READY]
    watched = copy.deepcopy(server.obj)
    migrator = Migrator(KIND, _runtime(server), watched, logging.getLogger("test"))

    async def waited(seconds: float) -> int:
        before = server.gets
        for _ in range(int(seconds * 2)):
            assert not await migrator.due()
            clock.now += 0.5
        return server.gets - before

    assert asyncio.run(waited(600)) == 6  # at 10, 30, 70, 150, 310 and 470 s: doubling, at most 160 s apart
    watched["status"]["conditions"] = [READY_1]
    server.obj["status"]["conditions"] = [READY_1]
    migrator.done_key, migrator.next_run = migrator_module._key(watched), clock.now + 10_000
    assert asyncio.run(waited(600)) == 0  # applied and Ready: waiting costs no read at all


def test_a_long_run_says_where_it_is_in_status(monkeypatch: pytest.MonkeyPatch) -> None:
    server = CountingServer({"migrations": {"set": "course"}})
    release = threading.Event()

    def slow(body: Any, *_: Any, stage: Any, **__: Any) -> MigrationReport:
        stage("applying 0002_enrollments_progress (2 of 3 pending)")
        assert release.wait(10)
        return _report()

    monkeypatch.setattr(migrator_module, "apply_database_migrations", slow)
    monkeypatch.setattr(migrator_module, "_PROGRESS_SECONDS", 0.05)
    migrator = Migrator(KIND, _runtime(server, threaded=True), server.obj, logging.getLogger("test"))
    seen: list[dict[str, Any] | None] = []

    async def run() -> None:
        running = asyncio.ensure_future(migrator.run())
        for _ in range(100):
            await asyncio.sleep(0.05)
            if (found := server.condition("MigrationsApplied")) is not None:
                seen.append(dict(found))
                break
        release.set()
        await running

    asyncio.run(run())
    assert seen, "no condition while the run was going"
    assert (seen[0]["status"], seen[0]["reason"]) == ("Unknown", "Applying"), seen
    assert "applying 0002_enrollments_progress (2 of 3 pending)" in seen[0]["message"]
    final = server.condition("MigrationsApplied") or {}
    assert (final.get("status"), final.get("reason")) == ("True", "Applied")


def test_a_spec_change_after_a_failure_retries_at_once(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    server = CountingServer({"migrations": {"set": "course"}})
    outcomes: list[Any] = [RecoverableError("cannot connect to PostgreSQL", reason="DatabaseUnavailable"), _report()]

    def attempt(*_: Any, **__: Any) -> MigrationReport:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome  # type: ignore[no-any-return]

    monkeypatch.setattr(migrator_module, "apply_database_migrations", attempt)
    migrator = Migrator(KIND, _runtime(server), server.obj, logging.getLogger("test"))
    migrator.failures = 5  # five earlier failures: the backoff is long now
    asyncio.run(migrator.run())
    assert migrator.failures == 6
    assert migrator.next_run - clock.now >= 30
    assert not asyncio.run(migrator.due())
    server.obj["metadata"]["generation"] = 2  # the user fixed something; the database is Ready for it
    server.obj["status"]["conditions"] = [{**READY, "observedGeneration": 2}]
    assert asyncio.run(migrator.due())
    asyncio.run(migrator.run())
    assert migrator.failures == 0
    assert (server.condition("MigrationsApplied") or {}).get("status") == "True"
