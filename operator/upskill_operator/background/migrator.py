"""Operator-driven migrations of one UpskillDatabase: when a run is due, the run, and the MigrationsApplied condition.

The handlers' daemon (:mod:`upskill_operator.handlers.migrations`) drives one :class:`Migrator` per database.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from upskill_operator.adapters.database.migration_set import apply_database_migrations
from upskill_operator.db.migrations import MigrationReport
from upskill_operator.errors import OperatorError, RecoverableError
from upskill_operator.kube.custom_status import get_custom_object, update_status
from upskill_operator.models.common import KindInfo
from upskill_operator.probes.window import Verdict, merge_condition, shows
from upskill_operator.status import Asserted, assert_condition, now, own_conditions, same_status
from upskill_operator.wiring.runtime import Runtime

__all__ = ["CONDITION", "Migrator"]

CONDITION = "MigrationsApplied"
_MAX_BACKOFF = 300.0
_PROGRESS_SECONDS = 30.0
"""A run still going after this long says what it is doing, in the log and (while status does not show the
migrations applied) in status, and again every as long."""
_FRESH_FIRST, _FRESH_MAX = 10.0, 160.0
"""While the watched body is not Ready, the object is read from the API after this long, then at doubling
intervals: a late watch never leaves the migrations waiting for good."""


def _condition(body: Mapping[str, Any], ctype: str) -> Mapping[str, Any] | None:
    for cond in (body.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return dict(cond)
    return None


def _ready(body: Mapping[str, Any]) -> bool:
    ready = _condition(body, "Ready")
    generation = (body.get("metadata") or {}).get("generation")
    return bool(ready and ready.get("status") == "True" and ready.get("observedGeneration") == generation)


def _key(body: Mapping[str, Any]) -> str:
    """What a run depends on: the migrations spec and where the database is."""
    spec, status = body.get("spec") or {}, body.get("status") or {}
    return json.dumps([spec.get("migrations"), status.get("endpoints"), status.get("port")], sort_keys=True)


def _verdict(result: MigrationReport | OperatorError, shown: Mapping[str, Any] | None = None) -> Verdict:
    """The condition a run gives. A check that applied nothing keeps the message status shows when it
    says the same counts (it may still name what an earlier run applied): a periodic re-check that
    found nothing new must not rewrite status (the steady state writes nothing)."""
    if isinstance(result, OperatorError):
        return Verdict("False", result.reason, str(result))
    message = f"{result.applied_total} of set {result.set_name} applied, latest {result.latest}"
    if result.applied_now:
        message += f" (just applied: {', '.join(a.name for a in result.applied_now)})"
    elif shown and shown.get("status") == "True" and shown.get("reason") == "Applied":
        previous = str(shown.get("message") or "")
        if previous == message or previous.startswith(f"{message} (just applied: "):
            message = previous
    return Verdict("True", "Applied", message)


class Migrator:
    """One database's migrations: due when Ready and the spec or endpoints changed, or at the resync interval."""

    def __init__(
        self, info: KindInfo, runtime: Runtime, body: Mapping[str, Any], logger: Any, asserted: Asserted | None = None
    ) -> None:
        self.info, self.runtime, self.body, self.logger = info, runtime, body, logger
        self.asserted: Asserted = {} if asserted is None else asserted
        meta = body.get("metadata") or {}
        self.namespace, self.name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        self.done_key: str | None = None
        self.next_run = 0.0
        self.failures = 0
        self.verdict: Verdict | None = None
        self.report: MigrationReport | None = None
        self.failed_generation: object = None
        self.stage = ""
        """What the running run is doing (set from its thread)."""
        self.fresh: Mapping[str, Any] | None = None
        self.fresh_at: float | None = None
        self.fresh_wait = _FRESH_FIRST

    async def due(self) -> bool:
        view = await self._view()
        if not _ready(view):
            return False
        if self.failures and (view.get("metadata") or {}).get("generation") != self.failed_generation:
            return True  # the spec changed since the failure: no need to sit out the backoff
        return _key(view) != self.done_key or time.monotonic() >= self.next_run

    async def _view(self) -> Mapping[str, Any]:
        """The watched body; while it is not Ready, also the API's copy now and then, used when only it is Ready."""
        if _ready(self.body):
            self.fresh, self.fresh_at, self.fresh_wait = None, None, _FRESH_FIRST
            return self.body
        clock = time.monotonic()
        if self.fresh_at is None:
            self.fresh_at = clock + self.fresh_wait
        elif clock >= self.fresh_at:
            self.fresh_wait = min(self.fresh_wait * 2, _FRESH_MAX)
            self.fresh_at = clock + self.fresh_wait
            read = functools.partial(get_custom_object, self.runtime.kube, self.info.plural, self.namespace, self.name)
            found = await self.runtime.run("migrations", read)
            self.fresh = found if found is not None and _ready(found) else None
            if self.fresh is not None:
                seen = (self.body.get("metadata") or {}).get("resourceVersion")
                self.logger.warning(
                    f"migrations: the watch still shows resourceVersion {seen}, not Ready; the API shows "
                    f"{self.fresh['metadata'].get('resourceVersion')}, Ready: running on the API's copy"
                )
        return self.fresh or self.body

    def waiting_for(self) -> str:
        """Why no run is due (for the log): what the body shows, or when the next check is."""
        if not _ready(self.body):
            generation = (self.body.get("metadata") or {}).get("generation")
            ready = _condition(self.body, "Ready")
            gen = ready.get("observedGeneration") if ready else None
            shown = f"Ready={ready.get('status')} for generation {gen}" if ready else "no Ready condition"
            return f"waiting for Ready at generation {generation} ({shown})"
        if self.failures:
            return f"retrying after {self.failures} failed run(s), at the backoff or when the spec or endpoints change"
        return "applied; checking again at the resync interval or when spec.migrations or the endpoints change"

    async def run(self) -> None:
        view = self.fresh or self.body
        key = _key(view)
        snapshot = {k: view.get(k) for k in ("metadata", "spec", "status")}
        runtime = self.runtime
        try:
            work = functools.partial(
                apply_database_migrations, snapshot, runtime.settings, runtime.aws, runtime.kube, stage=self._told
            )
            report = await self._with_progress(asyncio.ensure_future(runtime.run("migrations", work)))
        except OperatorError as exc:
            self.failures += 1
            self.failed_generation = (snapshot.get("metadata") or {}).get("generation")
            delay = min(runtime.settings.requeue_seconds * 2**self.failures, _MAX_BACKOFF)
            level = logging.INFO if isinstance(exc, RecoverableError) else logging.WARNING
            self.logger.log(level, f"migrations failed (retry in {delay:.0f}s): {exc}")
            self.verdict, self.next_run = _verdict(exc), time.monotonic() + delay
        else:
            self.failures, self.report, self.verdict = 0, report, _verdict(report, _condition(self.body, CONDITION))
            if report.applied_now:
                self.logger.info(self.verdict.message)
            resync = runtime.settings.kind_resync_seconds.get(self.info.kind, runtime.settings.resync_seconds)
            self.next_run = time.monotonic() + resync
        self.done_key = key
        await self.write()

    def _told(self, stage: str) -> None:
        self.stage = stage

    async def _with_progress(self, running: asyncio.Future[MigrationReport]) -> MigrationReport:
        started = time.monotonic()
        while True:
            try:
                return await asyncio.wait_for(asyncio.shield(running), _PROGRESS_SECONDS)
            except TimeoutError:
                told = f"running for {time.monotonic() - started:.0f}s: {self.stage}"
                self.logger.info(f"migrations still {told}")
                shown = _condition(self.body, CONDITION)
                if not shown or shown.get("status") != "True":  # not applied yet: status says where the run is
                    with contextlib.suppress(Exception):  # a failed progress write must not end the run's wait
                        await self.write(Verdict("Unknown", "Applying", told))

    async def write(self, progress: Verdict | None = None) -> None:
        """Write the last run's verdict (or ``progress``, what a running run is doing) unless status shows it."""
        verdict, report = progress or self.verdict, None if progress else self.report
        if verdict is None:
            return

        def change(obj: dict[str, Any]) -> dict[str, Any] | None:
            if not (obj.get("spec") or {}).get("migrations"):
                return None
            status = obj.get("status") or {}
            held = own_conditions(status.get("conditions") or [], self.asserted, CONDITION)
            conditions = merge_condition(held, verdict, obj["metadata"].get("generation"), now(), CONDITION)
            assert_condition(self.asserted, conditions, CONDITION, "migrations")  # written, or already held
            patch: dict[str, Any] = {"conditions": conditions}
            if report is not None:
                patch["migrations"] = {"applied": report.applied_total, "latest": report.latest}
            if all(same_status(status.get(key), value) for key, value in patch.items()):
                return None  # a check that found nothing new: status already says so
            return patch

        kube = self.runtime.kube
        await self.runtime.run(
            "migrations", functools.partial(update_status, kube, self.info.plural, self.namespace, self.name, change)
        )

    def retract(self) -> None:
        """The loop stops: its condition is no longer laid over the reconcile passes' view."""
        self.asserted.pop(CONDITION, None)

    def shown(self) -> bool:
        conditions = (self.body.get("status") or {}).get("conditions") or []
        return self.verdict is None or shows(conditions, self.verdict, CONDITION)
