"""Operator-driven migrations: apply an UpskillDatabase's ``spec.migrations`` once it is Ready.

One daemon per database with ``spec.migrations``. It waits for ``Ready`` (for the current
generation), applies the set through the read/write endpoint (the runner's advisory lock makes
a second operator replica, or the CLI, harmless), and reports:

* ``status.migrations``: how many of the set are applied and the latest one's name;
* the ``MigrationsApplied`` condition: True, or False with the runner's message (the file and
  line of a failing statement, a changed checksum, an unreachable database).

After a success it checks again at the kind's resync interval (a new file in a ConfigMap is
applied then) or at once when spec.migrations or the endpoint changes; a check that finds
nothing new writes nothing. After a failure it
retries with exponential backoff, capped at five minutes: a broken file never makes a hot loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import kopf

from upskill_operator.adapters.db_migrations import apply_database_migrations
from upskill_operator.db.migrations import MigrationReport
from upskill_operator.db.probe import Verdict, merge_condition, shows
from upskill_operator.errors import OperatorError, RecoverableError
from upskill_operator.handlers.status import now, same_status
from upskill_operator.kube.custom_status import update_status
from upskill_operator.models.common import API_GROUP, API_VERSION, KindInfo
from upskill_operator.reconcile.factory import Runtime

__all__ = ["CONDITION", "register"]

CONDITION = "MigrationsApplied"
_MAX_BACKOFF = 300.0


def _ready(body: Mapping[str, Any]) -> bool:
    generation = (body.get("metadata") or {}).get("generation")
    for cond in (body.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True" and cond.get("observedGeneration") == generation)
    return False


def _key(body: Mapping[str, Any]) -> str:
    """What a run depends on: the migrations spec and where the database is."""
    spec, status = body.get("spec") or {}, body.get("status") or {}
    return json.dumps([spec.get("migrations"), status.get("endpoints"), status.get("port")], sort_keys=True)


def _verdict(result: MigrationReport | OperatorError) -> Verdict:
    if isinstance(result, OperatorError):
        return Verdict("False", result.reason, str(result))
    message = f"{result.applied_total} of set {result.set_name} applied, latest {result.latest}"
    if result.applied_now:
        message += f" (just applied: {', '.join(a.name for a in result.applied_now)})"
    return Verdict("True", "Applied", message)


class _Migrator:
    def __init__(self, info: KindInfo, runtime: Runtime, body: kopf.Body, logger: Any) -> None:
        self.info, self.runtime, self.body, self.logger = info, runtime, body, logger
        self.namespace, self.name = body.metadata.namespace or "", body.metadata.name or ""
        self.done_key: str | None = None
        self.next_run = 0.0
        self.failures = 0
        self.verdict: Verdict | None = None
        self.report: MigrationReport | None = None

    def due(self) -> bool:
        return _ready(self.body) and (_key(self.body) != self.done_key or time.monotonic() >= self.next_run)

    async def run(self) -> None:
        key = _key(self.body)
        snapshot = {k: self.body.get(k) for k in ("metadata", "spec", "status")}
        runtime = self.runtime
        try:
            report = await asyncio.to_thread(
                apply_database_migrations, snapshot, runtime.settings, runtime.aws, runtime.kube
            )
        except OperatorError as exc:
            self.failures += 1
            delay = min(runtime.settings.requeue_seconds * 2**self.failures, _MAX_BACKOFF)
            level = logging.INFO if isinstance(exc, RecoverableError) else logging.WARNING
            self.logger.log(level, f"migrations failed (retry in {delay:.0f}s): {exc}")
            self.verdict, self.next_run = _verdict(exc), time.monotonic() + delay
        else:
            self.failures, self.report, self.verdict = 0, report, _verdict(report)
            if report.applied_now:
                self.logger.info(self.verdict.message)
            resync = runtime.settings.kind_resync_seconds.get(self.info.kind, runtime.settings.resync_seconds)
            self.next_run = time.monotonic() + resync
        self.done_key = key
        await self.write()

    async def write(self) -> None:
        verdict, report = self.verdict, self.report
        if verdict is None:
            return

        def change(obj: dict[str, Any]) -> dict[str, Any] | None:
            if not (obj.get("spec") or {}).get("migrations"):
                return None
            status = obj.get("status") or {}
            patch: dict[str, Any] = {
                "conditions": merge_condition(
                    status.get("conditions") or [], verdict, obj["metadata"].get("generation"), now(), CONDITION
                )
            }
            if report is not None:
                patch["migrations"] = {"applied": report.applied_total, "latest": report.latest}
            if all(same_status(status.get(key), value) for key, value in patch.items()):
                return None  # a check that found nothing new: status already says so
            return patch

        kube = self.runtime.kube
        await asyncio.to_thread(update_status, kube, self.info.plural, self.namespace, self.name, change)

    def shown(self) -> bool:
        conditions = (self.body.get("status") or {}).get("conditions") or []
        return self.verdict is None or shows(conditions, self.verdict, CONDITION)


def _daemon(info: KindInfo) -> Any:
    async def migrate(stopped: kopf.DaemonStopped, body: kopf.Body, memo: kopf.Memo, logger: Any, **_: Any) -> None:
        runtime: Runtime = memo["runtime"]
        migrator = _Migrator(info, runtime, body, logger)
        while not stopped:
            try:
                if migrator.due():
                    await migrator.run()
                elif not migrator.shown():
                    await migrator.write()  # a reconcile pass wrote conditions from an older body
            except Exception as exc:  # noqa: BLE001 - the daemon must survive a status write failure
                logger.warning(f"migrations round failed: {type(exc).__name__}: {exc}")
            await stopped.wait(runtime.settings.requeue_seconds)

    return migrate


def _has_migrations(spec: kopf.Spec, **_: Any) -> bool:
    return bool(spec.get("migrations"))


def register(registry: kopf.OperatorRegistry, kinds: tuple[KindInfo, ...]) -> None:
    """The migrations daemon, when the UpskillDatabase kind is served."""
    for info in kinds:
        if info.kind == "UpskillDatabase":
            kopf.daemon(
                API_GROUP,
                API_VERSION,
                info.plural,
                registry=registry,
                id="migrations",
                when=_has_migrations,
                cancellation_backoff=30.0,
                cancellation_timeout=5.0,
            )(_daemon(info))
