"""One probe daemon's rounds: build the probers a resource needs, probe, and write status.latency and the condition.

Status is written through the Kubernetes API at most every ``probe_status_seconds``, and at once when the
verdict changes. The daemon that drives it is :mod:`upskill_operator.handlers.probes`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from upskill_operator.config import Settings
from upskill_operator.kube.client import Kube
from upskill_operator.kube.custom_status import update_status
from upskill_operator.models.common import KindInfo
from upskill_operator.probes.plan import ProbePlan, plan_for
from upskill_operator.probes.window import CONDITION, ProbeSet, Verdict, merge_condition, shows
from upskill_operator.status import Asserted, assert_condition, now, own_conditions, same_status
from upskill_operator.wiring.runtime import Runtime

__all__ = ["ProbeLoop"]

T = TypeVar("T")


def _write(
    kube: Kube,
    info: KindInfo,
    where: tuple[str, str],
    latency: Mapping[str, Any],
    verdict: Verdict,
    asserted: Asserted,
    refresh: bool,
) -> bool:
    """Write the verdict (and, when ``refresh``, the coarse latency); without ``refresh``, only if the
    object does not already show the verdict (a late body is no reason to write)."""
    namespace, name = where

    def change(obj: dict[str, Any]) -> dict[str, Any] | None:
        if not (obj.get("spec") or {}).get("probe"):
            return None  # the probe was just switched off: never write after the clean-up
        status = obj.get("status") or {}
        generation = obj.get("metadata", {}).get("generation")
        held = own_conditions(status.get("conditions") or [], asserted, CONDITION)
        conditions = merge_condition(held, verdict, generation, now())
        assert_condition(asserted, conditions, CONDITION, "probe")
        if not refresh and same_status(status.get("conditions"), conditions):
            return None
        return {"latency": dict(latency) or None, "conditions": conditions}

    return update_status(kube, info.plural, namespace, name, change)


class ProbeLoop:
    """The state of one daemon: its probers, and what it last wrote."""

    def __init__(
        self,
        info: KindInfo,
        runtime: Runtime,
        where: tuple[str, str],
        logger: Any,
        asserted: Asserted | None = None,
    ) -> None:
        self.info, self.runtime, self.logger = info, runtime, logger
        self.namespace, self.name = where
        self.asserted: Asserted = {} if asserted is None else asserted
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
            self.written = (0.0, None)  # other endpoints (a reader published): the condition says so at the next round

    async def round(self, body: Mapping[str, Any]) -> float:
        """Probe once (if there is anything to probe); the seconds to wait before the next round."""
        settings: Settings = self.runtime.settings
        await self._replan(plan_for(self.info.kind, body, settings, self.runtime.aws, offload=self._offload))
        if self.probes is None:
            return settings.requeue_seconds
        await self.probes.run_once()
        verdict = self.probes.verdict()
        last_time, last_verdict = self.written
        shown = shows((body.get("status") or {}).get("conditions") or [], verdict)
        flipped = last_verdict is None or (verdict.status, verdict.reason) != (last_verdict.status, last_verdict.reason)
        due = flipped or time.monotonic() - last_time >= settings.probe_status_seconds
        if not shown or due:
            self._log_change(last_verdict, verdict)
            latency = self.probes.latency()
            where, kube = (self.namespace, self.name), self.runtime.kube
            await self._offload(functools.partial(_write, kube, self.info, where, latency, verdict, self.asserted, due))
            if due:
                self.written = (time.monotonic(), verdict)
        return self.probes.settings.interval_seconds

    async def _offload(self, work: Callable[[], T]) -> T:
        """Blocking work on the probe loops' own threads (never the event loop's default pool)."""
        return await self.runtime.run("probes", work)

    def _log_change(self, before: Verdict | None, after: Verdict) -> None:
        if before is not None and before.status == after.status:
            return
        if after.status == "False":
            self.logger.warning(f"{CONDITION} is False ({after.reason}): {after.message}")
        else:
            self.logger.info(f"{CONDITION} is {after.status}: {after.message}")

    async def close(self) -> None:
        self.asserted.pop(CONDITION, None)
        await self._replan(None)
