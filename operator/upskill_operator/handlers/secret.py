"""UpskillSecret's own clock: a short timer that runs a pass only when a refresh or rotation is due.

Thin, like every handler: :func:`~upskill_operator.adapters.secret.timing.due` decides from the
status alone, and a due pass is the same engine pass the other handlers run
(:func:`~upskill_operator.handlers.resource.sync_pass`: one at a time per object, through the same
lock). Errors are written to status and left to the next tick or resync.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import kopf
from pydantic import ValidationError

from upskill_operator.adapters.secret.timing import due
from upskill_operator.config import Settings
from upskill_operator.handlers.resource import sync_pass
from upskill_operator.models import secret
from upskill_operator.models.common import API_GROUP, API_VERSION
from upskill_operator.wiring.runtime import WIRING

__all__ = ["register"]

INFO = secret.KIND


def register(registry: kopf.OperatorRegistry, settings: Settings) -> None:
    """The refresh tick, when the operator serves UpskillSecret."""
    if INFO.kind not in WIRING:
        return

    async def tick(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: Any, **_: Any) -> None:
        if body.metadata.get("deletionTimestamp"):
            return
        reason: str | None = None

        def when(snapshot: kopf.Body) -> str | None:
            """Why a pass is due, decided from the snapshot taken under the lock (with this process's own last
            status write laid over it: a pass that just ran may not show in the body yet); None: not due."""
            nonlocal reason
            try:
                spec = secret.SecretSpec.model_validate(dict(snapshot.get("spec") or {}))
            except ValidationError:
                return None  # the reconcile handler reports it
            status, annotations = snapshot.get("status") or {}, snapshot.metadata.annotations or {}
            reason = due(spec, status, annotations, dt.datetime.now(dt.UTC))
            return reason

        outcome = await sync_pass(INFO, body, patch, memo, when)
        if outcome is not None:
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
