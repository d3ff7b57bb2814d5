"""Latency probe daemons: one per resource with ``spec.probe``, writing status.latency and LatencyWithinSLO.

The daemon reads the resource's live body every round: it starts probing once there is
something to reach (the table exists, the database publishes its endpoints), and rebuilds its
probers (and their pools) only when what they depend on changes. It stops, closing every
connection, when the resource is deleted, when ``spec.probe`` is removed and when the operator
exits; removing ``spec.probe`` also removes status.latency and the condition (``probe-off``).

Status is written through the Kubernetes API (kopf applies a daemon's patch only at its end):
at most every ``probe_status_seconds``, and at once whenever the verdict changes.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from upskill_operator.background.probe_loop import ProbeLoop
from upskill_operator.models.common import API_GROUP, API_VERSION, KindInfo
from upskill_operator.probes.window import CONDITION
from upskill_operator.wiring.runtime import Runtime

__all__ = ["PROBED_KINDS", "register"]

PROBED_KINDS = frozenset({"UpskillTable", "UpskillDatabase"})


def _probe_removed(body: kopf.Body, patch: kopf.Patch, new: Any, **_: Any) -> None:
    """spec.probe went away: drop what the probe wrote, in the same status patch as the reconcile pass.

    A handler (not the stopping daemon) does it so that it is ordered with the reconcile handler's
    own status patch, which would otherwise put back the condition it read from the body.
    """
    if new:
        return
    status = body.get("status") or {}
    conditions = patch.status.get("conditions") or status.get("conditions") or []
    if status.get("latency") or any(c.get("type") == CONDITION for c in conditions):
        patch.status["latency"] = None
        patch.status["conditions"] = [dict(c) for c in conditions if c.get("type") != CONDITION]


def _daemon(info: KindInfo) -> Any:
    async def probe(
        stopped: kopf.DaemonStopped, body: kopf.Body, memo: kopf.Memo, logger: logging.Logger, **_: Any
    ) -> None:
        runtime: Runtime = memo["runtime"]
        meta = body.metadata
        where = (meta.namespace or "", meta.name or "")
        loop = ProbeLoop(info, runtime, where, logger, memo.setdefault("asserted_conditions", {}))
        try:
            while not stopped:
                try:
                    pause = await loop.round(body)
                except Exception as exc:  # noqa: BLE001 - a probe daemon must keep probing
                    logger.warning(f"probe round failed: {type(exc).__name__}: {exc}")
                    pause = runtime.settings.requeue_seconds
                await stopped.wait(pause)
        finally:
            await loop.close()

    return probe


def _has_probe(spec: kopf.Spec, **_: Any) -> bool:
    return bool(spec.get("probe"))


def register(registry: kopf.OperatorRegistry, kinds: tuple[KindInfo, ...]) -> None:
    """One probe daemon per resource of each served kind that can be probed."""
    for info in kinds:
        if info.kind not in PROBED_KINDS:
            continue
        kopf.daemon(
            API_GROUP,
            API_VERSION,
            info.plural,
            registry=registry,
            id="probe",
            when=_has_probe,
            cancellation_backoff=10.0,  # signal, and give the loop time to close its pools cleanly
            cancellation_timeout=5.0,  # then cancel
        )(_daemon(info))
        kopf.on.update(API_GROUP, API_VERSION, info.plural, registry=registry, id="probe-off", field="spec.probe")(
            _probe_removed
        )
