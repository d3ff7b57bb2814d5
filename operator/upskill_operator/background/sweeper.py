"""The stuck-object sweeper: wakes kopf for objects whose wake-up was lost to a 409 Conflict.

kopf 1.45 writes what a pass produced in up to three PATCHes: the body (progress records,
the finalizer) and then ``/status`` (with its diff base, ``status.lastHandledConfiguration``;
see lifecycle.py). When one answers 409, kopf logs "Throttling ... APIConflictError", sleeps, and
goes back to waiting for the object's next watch event. The lost PATCH was that event, so
none comes: measured on our emulator, a 409 on the status PATCH after a spec change leaves the
change applied in AWS, the diff base recording it as handled, and ``status.observedGeneration``
one behind, until the resync timer (20 minutes for databases). A lost finalizer removal, or the
"touch" kopf uses to wake itself for a delayed retry, would wait the same way, and timers stop
when deletion starts, so a stuck deletion would wait for the next operator restart.

Every ``sweep_seconds`` the sweeper lists each kind and looks for work nobody is doing (see
:func:`pending_work`). An object that has shown the same ``resourceVersion`` with pending work
for ``sweep_grace_seconds`` gets one annotation, ``sweeper.upskill.io/nudge: <time>``. That is
a watch event, and it changes no generation (metadata only).

The key is outside ``upskill.io/`` on purpose. kopf leaves every annotation under its storage
prefix (``upskill.io``, marked ``upskill.io/kopf-managed``) out of the essence it diffs: an
``upskill.io/nudge`` would wake kopf and give it nothing to do after a lost status PATCH, since
the diff base already records the spec as handled ("the essence is the same"). Outside that
prefix, the nudge is a change kopf hands to the update handler. Our handlers read no diff and
filter no annotation: the pass is the same idempotent, level-based pass a resync runs (reads
only, unless AWS really differs), and it writes status. A finalizer or a delayed retry needs only
the event.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import astuple, dataclass
from typing import Any

from upskill_operator import metrics
from upskill_operator.config import Settings
from upskill_operator.errors import OperatorError
from upskill_operator.kube.client import Kube
from upskill_operator.kube.custom_objects import CustomObjects
from upskill_operator.kube.custom_sweep import list_in_scope
from upskill_operator.models.common import API_GROUP, API_VERSION, KindInfo

__all__ = ["NUDGE_ANNOTATION", "Nudge", "Sweeper", "pending_work", "sweep_forever"]

log = logging.getLogger(__name__)

NUDGE_ANNOTATION = "sweeper.upskill.io/nudge"
PROGRESS_PREFIX = "upskill.io/"  # kopf's AnnotationsProgressStorage prefix, set in lifecycle.py

Lister = Callable[[str], list[dict[str, Any]]]
"""plural -> the objects of that kind in the operator's scope."""
Nudger = Callable[[str, str, str, Mapping[str, str]], bool]
"""(plural, namespace, name, annotations) -> False when the object is gone."""


def _progress_records(annotations: Mapping[str, str]) -> list[dict[str, Any]]:
    """kopf's per-handler progress records (``{"started": ..., "delayed": ..., "retries": ...}``)."""
    records = []
    for key, value in annotations.items():
        if not key.startswith(PROGRESS_PREFIX) or not value.startswith("{"):
            continue
        with contextlib.suppress(ValueError):
            record = json.loads(value)
            if isinstance(record, dict) and "started" in record:
                records.append(record)
    return records


def _retry_due_within_grace(record: Mapping[str, Any], now: dt.datetime, grace: float) -> bool:
    """kopf holds a retry for this handler and its time (plus grace) has not passed yet."""
    delayed = record.get("delayed")
    if not isinstance(delayed, str):
        return False
    try:
        when = dt.datetime.fromisoformat(delayed)
    except ValueError:
        return True  # a format we do not know: leave it to kopf rather than guess
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when + dt.timedelta(seconds=grace) > now


def pending_work(obj: Mapping[str, Any], *, finalizer: str, now: dt.datetime, grace: float) -> str | None:
    """Why the object still needs a pass (a metric label), or None when nothing is owed.

    ``retry-overdue``: a kopf retry whose time passed more than ``grace`` ago (its wake-up was lost);
    ``deletion``: deleting, our finalizer still on, and no retry scheduled;
    ``status-missing``: never reported on; ``generation``: the spec is newer than the status.
    An object with a retry still to come is kopf's business: None.
    """
    meta = obj.get("metadata") or {}
    records = _progress_records(meta.get("annotations") or {})
    if any(_retry_due_within_grace(r, now, grace) for r in records):
        return None
    if records:
        return "retry-overdue"
    if meta.get("deletionTimestamp"):
        return "deletion" if finalizer in (meta.get("finalizers") or []) else None
    status = obj.get("status") or {}
    if not status:
        return "status-missing"
    if status.get("observedGeneration") != meta.get("generation"):
        return "generation"
    return None


@dataclass(frozen=True)
class Nudge:
    kind: str
    namespace: str
    name: str
    reason: str


@dataclass
class _Seen:
    version: str
    since: float


class Sweeper:
    """One sweep at a time (blocking calls: run it in a worker thread)."""

    def __init__(
        self,
        kinds: Iterable[KindInfo],
        list_objects: Lister,
        nudge: Nudger,
        *,
        finalizer: str,
        grace: float,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.kinds = tuple(kinds)
        self._list = list_objects
        self._nudge = nudge
        self.finalizer = finalizer
        self.grace = grace
        self._clock = clock
        self._wall = wall
        self._seen: dict[tuple[str, str], _Seen] = {}

    @classmethod
    def for_cluster(cls, kube: Kube, settings: Settings, kinds: Iterable[KindInfo]) -> Sweeper:
        objects = CustomObjects(kube)

        def nudge(plural: str, namespace: str, name: str, annotations: Mapping[str, str]) -> bool:
            return objects.annotate(API_GROUP, API_VERSION, namespace, plural, name, annotations)

        return cls(
            kinds,
            lambda plural: list_in_scope(kube, plural, settings.namespaces),
            nudge,
            finalizer=settings.finalizer,
            grace=settings.sweep_grace_seconds,
        )

    def sweep(self) -> list[Nudge]:
        """List every kind, nudge what has been stuck for the grace period; what was nudged."""
        done: list[Nudge] = []
        for info in self.kinds:
            try:
                done.extend(self._sweep_kind(info))
            except OperatorError as exc:  # the API is down or refuses: the next sweep tries again
                log.warning("sweeping %s failed: %s", info.plural, exc)
        return done

    def _sweep_kind(self, info: KindInfo) -> list[Nudge]:
        now, wall = self._clock(), self._wall()
        listed: set[tuple[str, str]] = set()
        done: list[Nudge] = []
        for obj in self._list(info.plural):
            meta = obj.get("metadata") or {}
            key = (info.kind, str(meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}"))
            listed.add(key)
            reason = pending_work(obj, finalizer=self.finalizer, now=wall, grace=self.grace)
            version = str(meta.get("resourceVersion") or "")
            seen = self._seen.get(key)
            if reason is None:
                self._seen.pop(key, None)
            elif seen is None or seen.version != version:
                self._seen[key] = _Seen(version, now)  # pending, but something moved: start the clock
            elif now - seen.since >= self.grace:
                self._seen.pop(key, None)  # the nudge moves the resourceVersion: the clock starts again
                nudge = Nudge(info.kind, str(meta.get("namespace") or ""), str(meta.get("name") or ""), reason)
                if self._wake(info, nudge, wall):
                    log.info("nudged %s %s/%s: %s, unchanged for %.0f s", *astuple(nudge), now - seen.since)
                    done.append(nudge)
        for key in [k for k in self._seen if k[0] == info.kind and k not in listed]:
            del self._seen[key]  # gone
        return done

    def _wake(self, info: KindInfo, nudge: Nudge, wall: dt.datetime) -> bool:
        stamp = wall.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        try:
            if not self._nudge(info.plural, nudge.namespace, nudge.name, {NUDGE_ANNOTATION: stamp}):
                return False  # deleted meanwhile
        except OperatorError as exc:
            log.warning("nudging %s %s/%s failed: %s", nudge.kind, nudge.namespace, nudge.name, exc)
            return False
        metrics.SWEEPER_NUDGES_TOTAL.labels(info.kind, nudge.reason).inc()
        return True


async def sweep_forever(sweeper: Sweeper, interval: float) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(interval)
        running = loop.run_in_executor(None, sweeper.sweep)
        try:
            await asyncio.shield(running)
        except asyncio.CancelledError:
            # Stopping: let the sweep in its thread finish (its calls time out) before the client closes.
            with contextlib.suppress(Exception):
                await running
            raise
        except Exception:  # a bug must not end the sweeping; it is logged with its traceback
            log.exception("the stuck-object sweep failed")
