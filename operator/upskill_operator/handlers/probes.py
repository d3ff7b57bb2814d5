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

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

import kopf

from upskill_operator.config import Settings
from upskill_operator.db.probe import CONDITION, ProbeSet, Verdict, merge_condition, shows
from upskill_operator.handlers.status import now
from upskill_operator.kube.client import Kube
from upskill_operator.kube.custom_status import update_status
from upskill_operator.models.common import API_GROUP, API_VERSION, KindInfo
from upskill_operator.reconcile.factory import Runtime
from upskill_operator.reconcile.wiring.probes import ProbePlan, plan_for

__all__ = ["PROBED_KINDS", "register"]

PROBED_KINDS = frozenset({"UpskillTable", "UpskillDatabase"})


def _write(kube: Kube, info: KindInfo, namespace: str, name: str, latency: Mapping[str, Any], verdict: Verdict) -> bool:
    def change(obj: dict[str, Any]) -> dict[str, Any] | None:
        if not (obj.get("spec") or {}).get("probe"):
            return None  # the probe was just switched off: never write after the clean-up
        status = obj.get("status") or {}
        generation = obj.get("metadata", {}).get("generation")
        conditions = merge_condition(status.get("conditions") or [], verdict, generation, now())
        return {"latency": dict(latency) or None, "conditions": conditions}

    return update_status(kube, info.plural, namespace, name, change)


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


class _Loop:
    """The state of one daemon: its probers, and what it last wrote."""

    def __init__(self, info: KindInfo, runtime: Runtime, namespace: str, name: str, logger: Any) -> None:
        self.info, self.runtime, self.namespace, self.name, self.logger = info, runtime, namespace, name, logger
        self.probes: ProbeSet | None = None
        self.key: tuple[Any, ...] | None = None
        self.written: tuple[float, Verdict | None] = (0.0, None)

    async def _replan(self, plan: ProbePlan | None) -> None:
        if plan is not None and plan.key == self.key:
            return
        if self.probes is not None:
            await self.probes.close()
            self.probes, self.key = None, None
        if plan is not None:
            self.probes = ProbeSet(self.info.kind, self.namespace, self.name, plan.build(), plan.settings)
            self.key = plan.key

    async def round(self, body: Mapping[str, Any]) -> float:
        """Probe once (if there is anything to probe); the seconds to wait before the next round."""
        settings: Settings = self.runtime.settings
        await self._replan(plan_for(self.info.kind, body, settings, self.runtime.aws))
        if self.probes is None:
            return settings.requeue_seconds
        await self.probes.run_once()
        verdict = self.probes.verdict()
        last_time, last_verdict = self.written
        shown = shows((body.get("status") or {}).get("conditions") or [], verdict)
        flipped = last_verdict is None or (verdict.status, verdict.reason) != (last_verdict.status, last_verdict.reason)
        if not shown or flipped or time.monotonic() - last_time >= settings.probe_status_seconds:
            self._log_change(last_verdict, verdict)
            latency = self.probes.latency()
            kube = self.runtime.kube
            await asyncio.to_thread(_write, kube, self.info, self.namespace, self.name, latency, verdict)
            self.written = (time.monotonic(), verdict)
        return self.probes.settings.interval_seconds

    def _log_change(self, before: Verdict | None, after: Verdict) -> None:
        if before is not None and before.status == after.status:
            return
        if after.status == "False":
            self.logger.warning(f"{CONDITION} is False ({after.reason}): {after.message}")
        else:
            self.logger.info(f"{CONDITION} is {after.status}: {after.message}")

    async def close(self) -> None:
        await self._replan(None)


def _daemon(info: KindInfo) -> Any:
    async def probe(
        stopped: kopf.DaemonStopped, body: kopf.Body, memo: kopf.Memo, logger: logging.Logger, **_: Any
    ) -> None:
        runtime: Runtime = memo["runtime"]
        meta = body.metadata
        loop = _Loop(info, runtime, meta.namespace or "", meta.name or "", logger)
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
