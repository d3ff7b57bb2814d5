"""The kopf handlers of one kind: thin wrappers that validate, call the engine and write status.

Waiting is not failing: a pass that must wait for AWS raises a TemporaryError
whose message starts with ``Requeued:`` (see :mod:`.logs`, which keeps those at
INFO). Recoverable errors back off exponentially; terminal ones are written and
left until the spec changes or the next resync.
"""

from __future__ import annotations

import asyncio
import copy
import random
import time
from collections.abc import Callable
from functools import partial
from typing import Any, cast

import kopf

from upskill_operator import metrics
from upskill_operator.config import Settings
from upskill_operator.handlers import events
from upskill_operator.models.common import API_GROUP, API_VERSION, KindInfo
from upskill_operator.models.validation import validate_spec
from upskill_operator.reconcile.events import NO_EVENTS, EventBuffer, EventSink
from upskill_operator.reconcile.outcome import Outcome, State
from upskill_operator.reconcile.protocol import Target
from upskill_operator.status import STAMPS, Asserted, changes, status_patch, with_asserted
from upskill_operator.wiring.runtime import Runtime

__all__ = [
    "READ_YOUR_WRITES_SECONDS",
    "REQUEUE_PREFIX",
    "register",
    "remember_written",
    "run_pass",
    "snapshot_of",
    "sync_pass",
    "target_of",
    "to_write",
]

REQUEUE_PREFIX = "Requeued: "
READ_YOUR_WRITES_SECONDS = 60.0
"""How long a pass trusts a status write of this process that the body does not show yet."""
_MAX_BACKOFF = 300.0


def target_of(info: KindInfo, body: kopf.Body, sink: EventSink = NO_EVENTS) -> Target | Outcome:
    """The engine's view of the resource (reporting to ``sink``), or a Terminal outcome naming every invalid field."""
    raw = dict(body.get("spec") or {})
    status = dict(body.get("status") or {})
    errors = validate_spec(info.kind, raw, status=status)  # the webhook's own check, for clusters without it
    if errors:
        return Outcome(State.TERMINAL, "InvalidSpec", "; ".join(errors))
    spec = info.spec.model_validate(raw)
    meta = body.metadata
    return Target(
        kind=info.kind,
        namespace=meta.namespace or "",
        name=meta.name or "",
        uid=meta.uid or "",
        generation=int(meta.get("generation") or 0),
        spec=spec,
        status=dict(body.get("status") or {}),
        annotations=dict(meta.get("annotations") or {}),
        deleting=bool(meta.get("deletionTimestamp")),
        events=sink,
    )


def snapshot_of(body: kopf.Body, memo: kopf.Memo) -> kopf.Body:
    """A private copy of the body, with read-your-writes status.

    kopf applies a handler's status patch after the handler returns, and the watch event that
    shows it arrives later still (seconds later on a loaded machine: the object's kopf worker updates
    the body only between handlers). A pass that starts in between (a timer right after a create,
    say) would act on status older than what this process just wrote, and could repeat a write,
    such as asking AWS to rotate twice. Until the body shows our last write (its lastSyncTime),
    and for at most :data:`READ_YOUR_WRITES_SECONDS`, the status we wrote is laid over the one we read.

    The conditions our background loops (migrations, probes) last wrote are laid over too, from the
    object's memo: they write straight to the API server, so neither a late body nor our own
    overlay (a list written before theirs) may stand for them.

    A steady pass writes nothing (see :func:`to_write`), so its time stamps stay in this process:
    the latest of each is laid over the status too, so that a clock that reads them (an
    UpskillSecret's refresh interval) counts from the last pass, not from the last write.
    """
    raw = copy.deepcopy(dict(body))
    written: dict[str, Any] = memo.get("written_status") or {}
    status = raw.get("status") or {}
    young = time.monotonic() - float(memo.get("written_at") or 0.0) < READ_YOUR_WRITES_SECONDS
    if written and young and status.get("lastSyncTime") != written.get("lastSyncTime"):
        status = {**status, **written}
    asserted: Asserted = memo.get("asserted_conditions") or {}
    if asserted:
        laid = with_asserted(status.get("conditions") or [], asserted, raw.get("spec") or {})
        status = {**status, "conditions": laid}
    stamps: dict[str, str] = memo.get("pass_stamps") or {}
    newer = {key: value for key, value in stamps.items() if str(status.get(key) or "") < value}
    if status or newer:
        raw["status"] = {**status, **newer}
    return kopf.Body(cast(kopf.RawBody, raw))


def to_write(body: kopf.Body, memo: kopf.Memo, status: dict[str, Any]) -> dict[str, Any]:
    """The part of a pass's ``status`` that changes what the API server holds (nothing at steady state).

    It is compared with the read-your-writes view (:func:`snapshot_of`): a body that has not caught
    up with our last write is no reason to write it again. A write that was lost (kopf could not
    apply it) is written again by the first pass after :data:`READ_YOUR_WRITES_SECONDS`.
    """
    held = snapshot_of(body, memo).get("status")
    memo["pass_stamps"] = {key: str(status[key]) for key in STAMPS if status.get(key)}
    delta = changes(held, status)
    if delta:  # a write carries its pass's stamps, so that the body is seen to catch up with it
        delta.update({key: status[key] for key in STAMPS if key in status})
    return remember_written(memo, delta)


def remember_written(memo: kopf.Memo, status: dict[str, Any]) -> dict[str, Any]:
    """Record the status patch a pass is about to write (see :func:`snapshot_of`)."""
    if status.get("lastSyncTime"):
        memo["written_status"] = copy.deepcopy(status)
        memo["written_at"] = time.monotonic()
    return status


async def run_pass(memo: kopf.Memo, kind: str, work: Callable[[], Outcome]) -> Outcome:
    """Run a blocking engine pass on the kind's worker threads, one pass per object at a time."""
    runtime: Runtime = memo["runtime"]
    lock: asyncio.Lock = memo.setdefault("lock", asyncio.Lock())
    async with lock:
        return await runtime.run(kind, work)


async def sync_pass(
    info: KindInfo,
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    due: Callable[[kopf.Body], str | None] | None = None,
) -> Outcome | None:
    """One engine pass of one object, with its status patch, metrics and Events: what every sync handler runs.

    It runs under the object's lock, on a snapshot of the body (:func:`snapshot_of`); an invalid spec is
    written as a Terminal outcome. ``due``, when given, decides from that snapshot whether to run at all:
    when it returns None nothing runs and nothing is written, and an invalid spec is left to the reconcile
    handler to report. None is returned when nothing ran.
    """
    runtime: Runtime = memo["runtime"]
    started = time.perf_counter()
    async with memo.setdefault("lock", asyncio.Lock()):
        # Read the spec once the lock is ours, and keep that copy: a timer's body is a live view, and a
        # pass must neither apply a spec older than one just applied nor report a generation it did not apply.
        snapshot = snapshot_of(body, memo)
        if due is not None and due(snapshot) is None:
            return None
        buffer = EventBuffer()
        target = target_of(info, snapshot, buffer)
        if isinstance(target, Outcome):
            if due is not None:
                return None
            outcome = target
        else:
            engine = runtime.engines[info.kind]
            outcome = await runtime.run(info.kind, partial(engine.reconcile, target))
    metrics.RECONCILE_SECONDS.labels(info.kind).observe(time.perf_counter() - started)
    metrics.RECONCILE_TOTAL.labels(info.kind, outcome.state.value).inc()
    status = status_patch(info, snapshot, outcome)
    patch.status.update(to_write(body, memo, status))
    events.post(snapshot, memo, buffer, status)
    return outcome


def _settle(outcome: Outcome, memo: kopf.Memo, settings: Settings) -> None:
    """Turn the outcome into kopf's scheduling: return (done) or raise a TemporaryError (again later).

    The backoff counts consecutive Recoverable passes of this object only (kept in its memo):
    kopf's own ``retry`` also counts the requeues of a long creation, which would turn one
    transient error after a slow create into a five-minute wait.
    """
    if outcome.state is State.RECOVERABLE:
        streak = int(memo.get("recoverable_streak", 0))
        memo["recoverable_streak"] = streak + 1
        raise kopf.TemporaryError(outcome.message, delay=min(settings.requeue_seconds * 2**streak, _MAX_BACKOFF))
    memo["recoverable_streak"] = 0
    if outcome.requeue_after is not None:
        raise kopf.TemporaryError(f"{REQUEUE_PREFIX}{outcome.message}", delay=outcome.requeue_after)


def register(registry: kopf.OperatorRegistry, info: KindInfo, settings: Settings) -> None:
    """Register create/update/resume, delete and the drift timer for one kind."""
    resource = (API_GROUP, API_VERSION, info.plural)

    async def reconcile(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
        outcome = await sync_pass(info, body, patch, memo)
        if outcome is not None:  # always, without ``due``
            runtime: Runtime = memo["runtime"]
            _settle(outcome, memo, runtime.settings)

    async def finalize(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
        runtime: Runtime = memo["runtime"]
        buffer = EventBuffer()
        target = target_of(info, body, buffer)
        if isinstance(target, Outcome):
            # Without a readable spec the deletion policy is unknown: keep everything in AWS.
            outcome = Outcome(State.DELETED, "Retained", "the spec is invalid, so AWS objects are kept")
        else:
            engine = runtime.engines[info.kind]
            outcome = await run_pass(memo, info.kind, partial(engine.finalize, target))
        metrics.RECONCILE_TOTAL.labels(info.kind, outcome.state.value).inc()
        if outcome.state is State.DELETED:
            metrics.forget_resource(info.kind, body.metadata.namespace or "", body.metadata.name or "")
            events.post(body, memo, buffer, {})
            return
        status = status_patch(info, body, outcome, deleting=True)
        patch.status.update(changes(body.get("status"), status))
        events.post(body, memo, buffer, status)
        _settle(outcome, memo, runtime.settings)

    kopf.on.resume(*resource, registry=registry, id="reconcile")(reconcile)
    kopf.on.create(*resource, registry=registry, id="reconcile")(reconcile)
    kopf.on.update(*resource, registry=registry, id="reconcile")(reconcile)
    kopf.on.delete(*resource, registry=registry, id="finalize")(finalize)

    interval = settings.kind_resync_seconds.get(info.kind, settings.resync_seconds)

    def jitter(**_: Any) -> float:
        # Spread resyncs so that a fleet created (or resumed) at once never calls AWS in lockstep.
        return interval * random.uniform(0.5, 1.0)

    kopf.timer(*resource, registry=registry, id="resync", interval=interval, initial_delay=jitter)(reconcile)
