"""UpskillSecret's own clock: a short timer that runs a pass only when a refresh or rotation is due.

Thin, like every handler: :func:`~upskill_operator.adapters.secret.timing.due` decides from the
status alone, and a due pass is the same engine pass the other handlers run (one at a time per
object, through the same lock). Errors are written to status and left to the next tick or resync.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from functools import partial
from typing import Any

import kopf
from pydantic import ValidationError

from upskill_operator import metrics
from upskill_operator.adapters.secret.timing import due
from upskill_operator.config import Settings
from upskill_operator.handlers import events
from upskill_operator.handlers.resource import snapshot_of, target_of, to_write
from upskill_operator.models import secret
from upskill_operator.models.common import API_GROUP, API_VERSION
from upskill_operator.reconcile.events import EventBuffer
from upskill_operator.reconcile.outcome import Outcome
from upskill_operator.status import status_patch
from upskill_operator.wiring.runtime import WIRING, Runtime

__all__ = ["register"]

INFO = secret.KIND


def register(registry: kopf.OperatorRegistry, settings: Settings) -> None:
    """The refresh tick, when the operator serves UpskillSecret."""
    if INFO.kind not in WIRING:
        return

    async def tick(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: Any, **_: Any) -> None:
        if body.metadata.get("deletionTimestamp"):
            return
        runtime: Runtime = memo["runtime"]
        started = time.perf_counter()
        async with memo.setdefault("lock", asyncio.Lock()):
            # Decide from a snapshot taken under the lock, with this process's own last status write
            # laid over it: a pass that just ran may not show in the body yet.
            snapshot = snapshot_of(body, memo)
            try:
                spec = secret.SecretSpec.model_validate(dict(snapshot.get("spec") or {}))
            except ValidationError:
                return  # the reconcile handler reports it
            status, annotations = snapshot.get("status") or {}, snapshot.metadata.annotations or {}
            reason = due(spec, status, annotations, dt.datetime.now(dt.UTC))
            buffer = EventBuffer()
            target = target_of(INFO, snapshot, buffer) if reason is not None else None
            if target is None or isinstance(target, Outcome):
                return
            engine = runtime.engines[INFO.kind]
            outcome = await runtime.run(INFO.kind, partial(engine.reconcile, target))
        metrics.RECONCILE_SECONDS.labels(INFO.kind).observe(time.perf_counter() - started)
        metrics.RECONCILE_TOTAL.labels(INFO.kind, outcome.state.value).inc()
        status = status_patch(INFO, snapshot, outcome)
        patch.status.update(to_write(body, memo, status))
        events.post(snapshot, memo, buffer, status)
        logger.debug(f"{reason}: {outcome.state.value} ({outcome.reason})")

    kopf.timer(
        API_GROUP,
        API_VERSION,
        INFO.plural,
        registry=registry,
        id="refresh",
        interval=settings.secret_tick_seconds,
        initial_delay=settings.secret_tick_seconds,
    )(tick)
