"""The probe's arithmetic without any server: quantiles, the window, the verdict and the condition entry."""

from __future__ import annotations

import asyncio

import pytest

from upskill_operator import metrics
from upskill_operator.probes.window import (
    CONDITION,
    ProbeFailure,
    ProbeSet,
    ProbeSettings,
    Verdict,
    merge_condition,
    quantile,
    shows,
)


class Scripted:
    """A prober that answers from a script: a number of seconds, a failure, or a hang."""

    def __init__(self, endpoint: str, *answers: float | ProbeFailure | None) -> None:
        self.endpoint = endpoint
        self.answers = list(answers)
        self.closed = False

    async def probe(self) -> float:
        answer = self.answers.pop(0)
        if answer is None:
            await asyncio.sleep(10)
            return 0.0
        if isinstance(answer, ProbeFailure):
            raise answer
        return answer

    async def close(self) -> None:
        self.closed = True


def probe_set(*probers: Scripted, window: int = 3) -> ProbeSet:
    settings = ProbeSettings(slo_seconds=0.1, timeout_seconds=0.05, window=window)
    return ProbeSet("UpskillTable", "unit", "t", probers, settings)


def test_quantiles_are_nearest_rank() -> None:
    samples = [float(i) for i in range(1, 101)]
    assert quantile(samples, 0.5) == 50.0
    assert quantile(samples, 0.99) == 99.0
    assert quantile([3.0, 1.0, 2.0], 0.99) == 3.0
    assert quantile([], 0.5) is None


async def test_the_verdict_follows_the_window_and_the_last_answer() -> None:
    fast, slow = 0.002, 0.2
    probes = probe_set(Scripted("proxy", fast, slow, fast, fast, fast, ProbeFailure("connect", "refused"), fast))
    assert probes.verdict() == Verdict("Unknown", "NotProbedYet", "no probe has answered yet")
    assert probes.latency() == {}

    await probes.run_once()
    assert probes.verdict().status == "True"
    await probes.run_once()
    assert (probes.verdict().status, probes.verdict().reason) == ("False", "LatencyAboveSLO")
    await probes.run_once()
    await probes.run_once()
    assert probes.verdict().status == "False"  # the slow sample is still in the window of 3
    await probes.run_once()
    assert probes.verdict().status == "True"
    await probes.run_once()
    failing = probes.verdict()
    assert (failing.status, failing.reason) == ("False", "ProbeFailing")
    assert failing.message == "proxy: connect: refused"
    assert len(probes.states["proxy"].samples) == 3  # the failure added no sample
    await probes.run_once()
    assert probes.verdict().status == "True"
    assert probes.latency()["p99Ms"] == 2.0
    await probes.close()


async def test_a_hang_is_cut_by_the_timeout_and_counted_as_a_failure() -> None:
    probes = probe_set(Scripted("table", None))
    await probes.run_once()
    assert probes.states["table"].last_failure is not None
    assert probes.states["table"].last_failure.reason == "timeout"
    assert list(probes.states["table"].samples) == []
    labels = ("UpskillTable", "unit", "t", "table", "timeout")
    assert metrics.PROBE_FAILURES_TOTAL.labels(*labels)._value.get() == 1
    await probes.close()


async def test_close_closes_every_prober_even_when_one_fails() -> None:
    good, bad = Scripted("a"), Scripted("b")

    async def broken() -> None:
        raise RuntimeError("pool already closed")

    bad.close = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await probe_set(good, bad).close()
    assert good.closed


def test_merge_condition_keeps_other_conditions_and_the_transition_time() -> None:
    ready = {"type": "Ready", "status": "True", "reason": "Available", "message": "", "lastTransitionTime": "t0"}
    first = merge_condition([ready], Verdict("True", "WithinSLO", "p99 2 ms"), 3, "t1")
    assert first[0] == ready
    assert first[1] == {
        "type": CONDITION,
        "status": "True",
        "reason": "WithinSLO",
        "message": "p99 2 ms",
        "lastTransitionTime": "t1",
        "observedGeneration": 3,
    }
    same = merge_condition(first, Verdict("True", "WithinSLO", "p99 3 ms"), 3, "t2")
    assert same[1]["lastTransitionTime"] == "t1"
    assert same[1]["message"] == "p99 3 ms"
    flipped = merge_condition(same, Verdict("False", "LatencyAboveSLO", "p99 200 ms"), 3, "t3")
    assert flipped[1]["lastTransitionTime"] == "t3"
    assert shows(flipped, Verdict("False", "LatencyAboveSLO", "other words"))
    assert not shows([ready], Verdict("False", "LatencyAboveSLO", ""))
