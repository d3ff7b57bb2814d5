"""Write an engine outcome into ``status`` and the per-resource metrics."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from upskill_operator import metrics
from upskill_operator.models.common import KindInfo
from upskill_operator.reconcile.conditions import phase_for, render
from upskill_operator.reconcile.outcome import Outcome, State

__all__ = ["now", "status_patch"]


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_patch(
    info: KindInfo, body: Mapping[str, Any], outcome: Outcome, *, deleting: bool = False
) -> dict[str, Any]:
    """The status fields to merge: conditions, phase, generation, time, and the outputs the model declares."""
    meta = body.get("metadata", {})
    status = body.get("status") or {}
    generation = int(meta.get("generation") or 0)
    stamp = now()
    patch: dict[str, Any] = {
        "conditions": render(status.get("conditions") or [], outcome, generation, stamp),
        "phase": phase_for(outcome, status.get("phase"), deleting).value,
        "observedGeneration": generation,
        "message": outcome.message,
    }
    if outcome.state not in (State.TERMINAL, State.BLOCKED) or outcome.outputs:
        patch["lastSyncTime"] = stamp
    declared = {f.alias or name for name, f in info.status.model_fields.items()}
    patch.update({k: v for k, v in outcome.outputs.items() if k in declared and k not in patch})
    created = patch.get("versionCreatedTime")
    if created:  # UpskillSecret: the age of the value in use, for the rotation panel and alerts
        stamp_seconds = datetime.datetime.fromisoformat(str(created).replace("Z", "+00:00")).timestamp()
        metrics.SECRET_VERSION_CREATED.labels(meta.get("namespace", ""), meta.get("name", "")).set(stamp_seconds)
    ready = 1.0 if outcome.state is State.READY else 0.0
    metrics.RESOURCE_READY.labels(info.kind, meta.get("namespace", ""), meta.get("name", "")).set(ready)
    return patch
