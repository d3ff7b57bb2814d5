"""Latency probes: a sliding window per endpoint, the LatencyWithinSLO verdict and the probe metrics.

A :class:`Prober` answers one question, "how long did one round trip take?", or raises
:class:`ProbeFailure`. :class:`ProbeSet` runs the probers of one resource together, each under
a client-side timeout, keeps the last samples per endpoint, and turns them into
``status.latency`` and the ``LatencyWithinSLO`` condition. A timeout or an error is counted as
a failure (by reason) and never as a latency sample, so an outage cannot look fast.

Nothing here knows kopf or Kubernetes; the daemon in ``handlers/probes.py`` drives it.
"""

from __future__ import annotations

import asyncio
import datetime
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from upskill_operator import metrics
from upskill_operator.reconcile.conditions import set_condition

__all__ = [
    "CONDITION",
    "EndpointState",
    "ProbeFailure",
    "ProbeSet",
    "ProbeSettings",
    "Prober",
    "Verdict",
    "merge_condition",
    "quantile",
    "shows",
]

CONDITION = "LatencyWithinSLO"
REASONS = frozenset(metrics.PROBE_FAILURE_REASONS)
"""The bounded values of the failure counter's ``reason`` label."""


class ProbeFailure(Exception):  # noqa: N818 - a result of a probe, named as such
    """One probe did not get an answer. ``reason`` is one of :data:`REASONS`; the message is safe to show."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason if reason in REASONS else "error"


class Prober(Protocol):
    endpoint: str
    """The endpoint's label: ``proxy``, ``proxyReadOnly``, ``table``."""

    async def probe(self) -> float:
        """Seconds one round trip took; raise :class:`ProbeFailure` when there was no good answer."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class ProbeSettings:
    interval_seconds: float = 30.0
    slo_seconds: float = 0.1
    timeout_seconds: float = 5.0
    window: int = 60
    """Samples kept per endpoint (the sliding window p50/p99 are computed over)."""


def quantile(samples: Sequence[float], q: float) -> float | None:
    """Nearest-rank quantile: p99 of 60 samples is the largest one, never an interpolated guess."""
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class EndpointState:
    samples: deque[float]
    last_probe: datetime.datetime | None = None
    last_failure: ProbeFailure | None = None
    histogram: Any = None
    """This endpoint's latency histogram series, looked up once rather than per probe."""

    @property
    def p50(self) -> float | None:
        return quantile(self.samples, 0.5)

    @property
    def p99(self) -> float | None:
        return quantile(self.samples, 0.99)


@dataclass(frozen=True)
class Verdict:
    status: str
    """True, False or Unknown."""
    reason: str
    message: str


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


@dataclass
class ProbeSet:
    """The probers of one resource and what they measured."""

    kind: str
    namespace: str
    name: str
    probers: Sequence[Prober]
    settings: ProbeSettings = field(default_factory=ProbeSettings)
    states: dict[str, EndpointState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for prober in self.probers:
            state = self.states.setdefault(prober.endpoint, EndpointState(deque(maxlen=self.settings.window)))
            state.histogram = metrics.PROBE_SECONDS.labels(*self._labels(prober.endpoint))

    def _labels(self, endpoint: str) -> tuple[str, str, str, str]:
        return (self.kind, self.namespace, self.name, endpoint)

    async def _probe_one(self, prober: Prober) -> None:
        state = self.states[prober.endpoint]
        timeout = self.settings.timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                seconds = await prober.probe()
        except TimeoutError:
            failure: ProbeFailure | None = ProbeFailure("timeout", f"no answer within {timeout:g}s")
        except ProbeFailure as exc:
            failure = exc
        else:
            failure = None
            state.samples.append(seconds)
            state.histogram.observe(seconds)
        if failure is not None:
            metrics.PROBE_FAILURES_TOTAL.labels(*self._labels(prober.endpoint), failure.reason).inc()
        state.last_failure = failure
        state.last_probe = datetime.datetime.now(datetime.UTC)

    async def run_once(self) -> None:
        """Probe every endpoint once, concurrently (one endpoint: in this task, with no task to schedule)."""
        if len(self.probers) == 1:
            await self._probe_one(self.probers[0])
        else:
            await asyncio.gather(*(self._probe_one(p) for p in self.probers))

    def latency(self, endpoint: str | None = None) -> dict[str, Any]:
        """``status.latency`` (wire names) for one endpoint; the first (the read/write one) by default."""
        label = endpoint or (self.probers[0].endpoint if self.probers else "")
        state = self.states.get(label)
        if state is None or state.last_probe is None:
            return {}
        return {
            "p50Ms": _ms(state.p50),
            "p99Ms": _ms(state.p99),
            "lastProbeTime": state.last_probe.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def verdict(self) -> Verdict:
        """True when every endpoint answered its last probe and its window's p99 is within the SLO."""
        slo_ms = self.settings.slo_seconds * 1000
        failing, slow, good = [], [], []
        for label, state in self.states.items():
            if state.last_probe is None:
                continue
            p99 = _ms(state.p99)
            if state.last_failure is not None:
                failing.append(f"{label}: {state.last_failure.reason}: {state.last_failure}")
            elif p99 is not None and p99 > slo_ms:
                slow.append(f"{label}: p99 {p99:g} ms > {slo_ms:g} ms")
            elif p99 is not None:
                good.append(f"{label}: p99 {p99:g} ms")
        if failing:
            return Verdict("False", "ProbeFailing", "; ".join(failing + slow))
        if slow:
            return Verdict("False", "LatencyAboveSLO", "; ".join(slow))
        if not good:
            return Verdict("Unknown", "NotProbedYet", "no probe has answered yet")
        return Verdict("True", "WithinSLO", "; ".join(good) + f" <= {slo_ms:g} ms")

    async def close(self) -> None:
        """Close every prober (connections, pools) and drop this resource's metric series."""
        results = await asyncio.gather(*(p.close() for p in self.probers), return_exceptions=True)
        for label in self.states:
            metrics.forget_probe(*self._labels(label))
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]


def merge_condition(
    conditions: Sequence[Mapping[str, Any]],
    verdict: Verdict,
    generation: int | None,
    now: str,
    ctype: str = CONDITION,
) -> list[dict[str, Any]]:
    """``conditions`` with the ``ctype`` entry set from ``verdict``, by the one condition setter (``set_condition``)."""
    return set_condition(conditions, ctype, verdict.status, verdict.reason, verdict.message, now, generation)


def shows(conditions: Sequence[Mapping[str, Any]], verdict: Verdict, ctype: str = CONDITION) -> bool:
    """Whether ``conditions`` carry this verdict's status and reason (a stale write elsewhere may have dropped it)."""
    wanted = (ctype, verdict.status, verdict.reason)
    return any((c.get("type"), c.get("status"), c.get("reason")) == wanted for c in conditions)
