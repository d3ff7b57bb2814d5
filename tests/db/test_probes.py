"""The PostgreSQL probe against a real server: latency, the SLO verdict, outages, timeouts, and no leaks.

A :class:`TcpProxy` in front of the server slows it down or takes it away, like a congested
network or a failover would; ``pg_sleep`` in the probe query plays a slow server.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from db.tcp_proxy import TcpProxy
from upskill_operator import metrics
from upskill_operator.probes.postgres import PostgresProber
from upskill_operator.probes.window import ProbeSet, ProbeSettings

APP = "upskill-operator-probe"


@pytest.fixture
def proxy(pg_server: str) -> Iterator[TcpProxy]:
    with TcpProxy(pg_server) as running:
        yield running


def probe_set(name: str, *probers: PostgresProber, slo: float = 0.1, timeout: float = 2.0, window: int = 5) -> ProbeSet:
    settings = ProbeSettings(interval_seconds=1, slo_seconds=slo, timeout_seconds=timeout, window=window)
    return ProbeSet("UpskillDatabase", "ns", name, probers, settings)


def metric_value(metric: Any, suffix: str, **labels: str) -> float:
    """The value of one sample of ``metric`` (0 when the series does not exist)."""
    for family in metric.collect():
        for sample in family.samples:
            if sample.name.endswith(suffix) and labels.items() <= sample.labels.items():
                return float(sample.value)
    return 0.0


def sample_count(name: str, endpoint: str) -> float:
    return metric_value(metrics.PROBE_SECONDS, "_count", name=name, endpoint=endpoint)


def bucket(name: str, endpoint: str, le: str) -> float:
    return metric_value(metrics.PROBE_SECONDS, "_bucket", name=name, endpoint=endpoint, le=le)


def failures(name: str, endpoint: str, reason: str) -> float:
    return metric_value(metrics.PROBE_FAILURES_TOTAL, "_total", name=name, endpoint=endpoint, reason=reason)


def probe_connections(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (APP,)).fetchone()
        return int(row[0]) if row else 0


async def eventually(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


async def test_normal_latency_is_recorded_and_within_the_slo(pg_server: str) -> None:
    probes = probe_set("normal", PostgresProber("proxy", pg_server), slo=5.0)
    try:
        for _ in range(3):
            await probes.run_once()
        latency = probes.latency()
        verdict = probes.verdict()
    finally:
        await probes.close()

    assert 0 < latency["p50Ms"] <= latency["p99Ms"]
    assert latency["lastProbeTime"].endswith("Z")
    assert (verdict.status, verdict.reason) == ("True", "WithinSLO")
    assert len(probes.states["proxy"].samples) == 3


async def test_samples_reach_the_histogram_with_a_bucket_at_the_slo(pg_server: str) -> None:
    probes = probe_set("histogram", PostgresProber("proxy", pg_server, query="SELECT pg_sleep(0.12)"))
    try:
        await probes.run_once()
        await probes.run_once()
        assert sample_count("histogram", "proxy") == 2
        assert bucket("histogram", "proxy", "0.1") == 0  # 120 ms is above the boundary at exactly 0.1 s
        assert bucket("histogram", "proxy", "+Inf") == 2
    finally:
        await probes.close()
    assert sample_count("histogram", "proxy") == 0  # the series go with the resource


async def test_a_slow_server_flips_the_verdict_and_recovery_flips_it_back(pg_server: str, proxy: TcpProxy) -> None:
    probes = probe_set("slow", PostgresProber("proxy", proxy.url(pg_server)), slo=1.0, window=2)
    try:
        await probes.run_once()
        assert probes.verdict().status == "True"

        proxy.delay = 1.1
        await probes.run_once()
        slow = probes.verdict()
        assert (slow.status, slow.reason) == ("False", "LatencyAboveSLO")
        assert "proxy: p99" in slow.message
        assert "> 1000 ms" in slow.message
        assert probes.latency()["p99Ms"] >= 1100

        proxy.delay = 0
        await probes.run_once()
        await probes.run_once()  # the window (2 samples) no longer holds the slow one
        assert probes.verdict().status == "True"
    finally:
        await probes.close()


async def test_a_timeout_is_a_failure_and_never_a_sample(pg_server: str, proxy: TcpProxy) -> None:
    probes = probe_set("timeout", PostgresProber("proxy", proxy.url(pg_server), timeout_seconds=0.3), timeout=0.3)
    try:
        await probes.run_once()
        before = len(probes.states["proxy"].samples)
        proxy.delay = 1.0
        await probes.run_once()
        verdict = probes.verdict()
        assert (verdict.status, verdict.reason) == ("False", "ProbeFailing")
        assert "timeout" in verdict.message
        assert len(probes.states["proxy"].samples) == before
        assert sample_count("timeout", "proxy") == before
        assert failures("timeout", "proxy", "timeout") == 1
    finally:
        proxy.delay = 0
        await probes.close()


async def test_a_stopped_server_fails_the_probe_then_it_recovers(pg_server: str, proxy: TcpProxy) -> None:
    prober = PostgresProber("proxy", proxy.url(pg_server), timeout_seconds=0.5)
    probes = probe_set("outage", prober, slo=5.0, timeout=0.5)
    try:
        await probes.run_once()
        samples = len(probes.states["proxy"].samples)

        proxy.stop()
        await probes.run_once()  # the pooled connection was cut: this probe fails
        await probes.run_once()  # and the reconnect is refused
        down = probes.verdict()
        assert (down.status, down.reason) == ("False", "ProbeFailing")
        assert len(probes.states["proxy"].samples) == samples
        reasons = {r: failures("outage", "proxy", r) for r in ("unavailable", "connect", "timeout")}
        assert sum(reasons.values()) >= 2, reasons

        proxy.start()

        async def healthy() -> bool:
            await probes.run_once()
            return probes.verdict().status == "True"

        assert await eventually(healthy), probes.verdict()
        assert len(probes.states["proxy"].samples) > samples
    finally:
        await probes.close()


async def test_one_connection_per_endpoint_and_none_left_after_close(pg_server: str, proxy: TcpProxy) -> None:
    tasks_before = len(asyncio.all_tasks())
    threads_before = threading.active_count()
    probes = probe_set(
        "leaks",
        PostgresProber("proxy", pg_server),
        PostgresProber("proxyReadOnly", proxy.url(pg_server)),
    )
    for _ in range(5):
        await probes.run_once()
    assert probe_connections(pg_server) == 2  # one per endpoint, however many probes ran
    assert proxy.open_connections == 1

    await probes.close()

    async def gone() -> bool:
        return probe_connections(pg_server) == 0 and proxy.open_connections == 0

    assert await eventually(gone, 5)
    assert len(asyncio.all_tasks()) == tasks_before
    assert threading.active_count() == threads_before


def probe_backends(url: str) -> set[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APP,)).fetchall()
        return {int(r[0]) for r in rows}


async def test_probes_reuse_one_session_and_replace_it_when_it_is_killed(pg_server: str) -> None:
    probes = probe_set("reuse", PostgresProber("proxy", pg_server), slo=5.0)
    try:
        await probes.run_once()
        first = probe_backends(pg_server)
        for _ in range(20):
            await probes.run_once()
        assert probe_backends(pg_server) == first, "every probe ran on the same server session"
        assert len(first) == 1

        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (next(iter(first)),))
        await probes.run_once()  # the held session is gone: this probe fails, and gives it back to the pool
        assert probes.states["proxy"].last_failure is not None
        assert probes.states["proxy"].last_failure.reason == "unavailable"

        async def recovered() -> bool:
            await probes.run_once()
            return probes.states["proxy"].last_failure is None

        assert await eventually(recovered)
        again = probe_backends(pg_server)
        assert len(again) == 1
        assert again != first, "a new session replaced the killed one"
    finally:
        await probes.close()
    assert probe_backends(pg_server) == set()


async def test_a_held_session_is_still_retired_at_the_pools_max_lifetime(pg_server: str) -> None:
    prober = PostgresProber("proxy", pg_server)
    prober.pool.max_lifetime = 0.5  # an hour by default: as an app's pool would, the probe reconnects then
    probes = probe_set("lifetime", prober, slo=5.0)
    try:
        await probes.run_once()
        first = probe_backends(pg_server)
        await asyncio.sleep(0.7)
        await probes.run_once()
        assert probes.states["proxy"].last_failure is None
        again = await eventually(lambda: _changed(pg_server, first))
        assert again, "the probe moved to a new session once the old one outlived max_lifetime"
    finally:
        await probes.close()


async def _changed(url: str, before: set[int]) -> bool:
    now = probe_backends(url)
    return len(now) == 1 and now != before
