"""Benchmark: the latency probe vs raw async psycopg ``SELECT 1`` on the same connection, side by side.

    .venv/bin/python bench/probes.py [N]        (default N = 2000 round trips per side)

The probe side times a whole ``ProbeSet.run_once()`` from the outside (asyncio, the client-side
timeout, the prober, the sliding window and the Prometheus histogram). The raw side times
``await conn.execute(b"SELECT 1")`` on the very connection the prober holds (autocommit, no
server-side prepares), in the same event loop. They alternate in blocks so that drift on the
machine hits both alike. Sync psycopg on its own connection is shown for reference. CPU is this
process's CPU time divided by the round trips; the server's CPU is not counted. The figures go to
``.bench/figures.json``.

The server is the embedded PostgreSQL (unix socket) unless DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import psycopg

from upskill_operator.probes.postgres import PostgresProber
from upskill_operator.probes.window import ProbeSet, ProbeSettings, quantile
from upskill_sandbox.postgres import postgres

from common import load, print_table, ratios, record

BLOCKS = 10


@dataclass
class Side:
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0

    def ms(self, q: float) -> float:
        return (quantile(self.latencies, q) or 0.0) * 1000

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000

    @property
    def cpu_us(self) -> float:
        return self.cpu / len(self.latencies) * 1e6


async def timed(side: Side, n: int, once: Callable[[], Awaitable[object]]) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        started = time.perf_counter()
        await once()
        side.latencies.append(time.perf_counter() - started)
    side.wall += time.perf_counter() - wall
    side.cpu += time.process_time() - cpu


def sync_block(conn: psycopg.Connection[object], n: int, side: Side) -> None:
    cpu = time.process_time()
    for _ in range(n):
        started = time.perf_counter()
        conn.execute(b"SELECT 1")
        side.latencies.append(time.perf_counter() - started)
    side.cpu += time.process_time() - cpu


async def measure(url: str, n: int) -> tuple[Side, Side, Side]:
    raw, probe, sync = Side(), Side(), Side()
    settings = ProbeSettings(interval_seconds=30, slo_seconds=0.1, timeout_seconds=5, window=60)
    prober = PostgresProber("proxy", url)
    probes = ProbeSet("UpskillDatabase", "bench", "bench", [prober], settings)
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as reference:
        for _ in range(50):  # warm both connections (the first probe opens the prober's)
            await probes.run_once()
            reference.execute(b"SELECT 1")
        conn = prober.connection
        if conn is None:
            raise SystemExit("the prober holds no connection after warming up")

        async def select_one() -> object:
            return await conn.execute(b"SELECT 1")

        block = max(1, n // BLOCKS)
        for _ in range(BLOCKS):
            await timed(raw, block, select_one)
            await timed(probe, block, probes.run_once)
            sync_block(reference, block, sync)
    await probes.close()
    return raw, probe, sync


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 2000
    before = load()
    with postgres() as url:
        raw, probe, sync = asyncio.run(measure(os.environ.get("DATABASE_URL", url), n))
    after = load()
    rows = []
    for label, of in (
        ("p50 latency (ms)", lambda s: s.ms(0.5)),
        ("p99 latency (ms)", lambda s: s.ms(0.99)),
        ("mean latency (ms)", lambda s: s.mean_ms),
        ("client CPU per round trip (us)", lambda s: s.cpu_us),
    ):
        r, p, y = of(raw), of(probe), of(sync)
        rows.append([label, f"{r:.3f}", f"{p:.3f}", *ratios(p, r), f"{y:.3f}"])
    print(f"{len(raw.latencies)} raw async SELECT 1 and {len(probe.latencies)} probes on one connection, ")
    print(f"alternating in {BLOCKS} blocks; load average {before} -> {after}\n")
    print_table(["measure", "raw async psycopg", "probe", "probe/raw", "raw/probe", "sync psycopg (reference)"], rows)
    record(
        "probes",
        {
            "p50_ratio": probe.ms(0.5) / raw.ms(0.5),
            "p99_ratio": probe.ms(0.99) / raw.ms(0.99),
            "raw_p50_ms": raw.ms(0.5),
            "probe_p50_ms": probe.ms(0.5),
            "sync_p50_ms": sync.ms(0.5),
        },
    )


if __name__ == "__main__":
    main(sys.argv[1:])
