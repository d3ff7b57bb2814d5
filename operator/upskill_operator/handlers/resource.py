"""The kopf handlers of one kind: thin wrappers that validate, call the engine and write status.

Waiting is not failing: a pass that must wait for AWS raises a TemporaryError
whose message starts with ``Requeued:`` (see :mod:`.logs`, which keeps those at
INFO). Recoverable errors back off exponentially; terminal ones are written and
left until the spec changes or the next resync.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

import kopf
from pydantic import ValidationError

from upskill_operator import metrics
from upskill_operator.config import Settings
from upskill_operator.handlers.status import status_patch
from upskill_operator.models.common import API_GROUP, API_VERSION, KindInfo, format_errors
from upskill_operator.reconcile.factory import Runtime
from upskill_operator.reconcile.outcome import Outcome, State
from upskill_operator.reconcile.protocol import Target

__all__ = ["REQUEUE_PREFIX", "register"]

REQUEUE_PREFIX = "Requeued: "
_MAX_BACKOFF = 300.0


def _target(info: KindInfo, body: kopf.Body) -> Target | Outcome:
    """The engine's view of the resource, or a Terminal outcome naming every invalid field."""
    try:
        spec = info.spec.model_validate(dict(body.get("spec") or {}))
    except ValidationError as exc:
        return Outcome(State.TERMINAL, "InvalidSpec", "; ".join(format_errors(exc)))
    meta = body.metadata
    return Target(
        kind=info.kind,
        namespace=meta.namespace or "",
        name=meta.name or "",
        uid=meta.uid or "",
        generation=int(meta.get("generation") or 0),
        spec=spec,
        status=dict(body.get("status") or {}),
    )


async def _run(memo: kopf.Memo, work: Callable[[], Outcome]) -> Outcome:
    """Run a blocking engine pass in a worker thread, one pass per object at a time."""
    lock: asyncio.Lock = memo.setdefault("lock", asyncio.Lock())
    async with lock:
        return await asyncio.get_running_loop().run_in_executor(None, work)


def _settle(outcome: Outcome, retry: int, settings: Settings) -> None:
    """Turn the outcome into kopf's scheduling: return (done) or raise a TemporaryError (again later)."""
    if outcome.state is State.RECOVERABLE:
        raise kopf.TemporaryError(outcome.message, delay=min(settings.requeue_seconds * 2**retry, _MAX_BACKOFF))
    if outcome.requeue_after is not None:
        raise kopf.TemporaryError(f"{REQUEUE_PREFIX}{outcome.message}", delay=outcome.requeue_after)


def register(registry: kopf.OperatorRegistry, info: KindInfo, settings: Settings) -> None:
    """Register create/update/resume, delete and the drift timer for one kind."""
    resource = (API_GROUP, API_VERSION, info.plural)

    async def reconcile(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, retry: int = 0, **_: Any) -> None:
        runtime: Runtime = memo["runtime"]
        started = time.perf_counter()
        target = _target(info, body)
        if isinstance(target, Outcome):
            outcome = target
        else:
            engine = runtime.engines[info.kind]
            outcome = await _run(memo, lambda: engine.reconcile(target))
        metrics.RECONCILE_SECONDS.labels(info.kind).observe(time.perf_counter() - started)
        metrics.RECONCILE_TOTAL.labels(info.kind, outcome.state.value).inc()
        patch.status.update(status_patch(info, body, outcome))
        _settle(outcome, retry, runtime.settings)

    async def finalize(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, retry: int = 0, **_: Any) -> None:
        runtime: Runtime = memo["runtime"]
        target = _target(info, body)
        if isinstance(target, Outcome):
            # Without a readable spec the deletion policy is unknown: keep everything in AWS.
            outcome = Outcome(State.DELETED, "Retained", "the spec is invalid, so AWS objects are kept")
        else:
            engine = runtime.engines[info.kind]
            outcome = await _run(memo, lambda: engine.finalize(target))
        metrics.RECONCILE_TOTAL.labels(info.kind, outcome.state.value).inc()
        if outcome.state is State.DELETED:
            metrics.forget_resource(info.kind, body.metadata.namespace or "", body.metadata.name or "")
            return
        patch.status.update(status_patch(info, body, outcome, deleting=True))
        _settle(outcome, retry, runtime.settings)

    kopf.on.resume(*resource, registry=registry, id="reconcile")(reconcile)
    kopf.on.create(*resource, registry=registry, id="reconcile")(reconcile)
    kopf.on.update(*resource, registry=registry, id="reconcile")(reconcile)
    kopf.on.delete(*resource, registry=registry, id="finalize")(finalize)

    def jitter(**_: Any) -> float:
        # Spread resyncs so that a fleet created (or resumed) at once never calls AWS in lockstep.
        return settings.resync_seconds * random.uniform(0.5, 1.0)

    kopf.timer(*resource, registry=registry, id="resync", interval=settings.resync_seconds, initial_delay=jitter)(
        reconcile
    )
