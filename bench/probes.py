"""Benchmark: the latency probe vs raw psycopg ``SELECT 1`` on the same server, in one run.

    .venv/bin/python bench/probes.py [N]        (default N = 2000 probes per side)

Both sides use one warm connection in autocommit with server-side prepares off. The raw side
times ``conn.execute("SELECT 1")`` on a plain ``psycopg.Connection``; the probe side runs
``ProbeSet.run_once()`` (asyncio, the one-connection psycopg_pool, the client-side timeout, the
sliding window and the Prometheus histogram) and reports what the probe measured. They run in
alternating blocks so that drift on the machine hits both alike. CPU is this process's CPU time
(all threads) divided by the number of round trips; the server's CPU is not counted on either side.

The server is the embedded PostgreSQL (unix socket) unless DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from dataclasses import dataclass, field

import psycopg

from upskill_operator.db.pg_probe import PostgresProber
from upskill_operator.db.probe import ProbeSet, ProbeSettings, quantile
from upskill_operator.sandbox.postgres import postgres

from common import print_table

BLOCKS = 10


@dataclass
class Side:
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0
    count: int = 0

    def ms(self, q: float) -> float:
        return (quantile(self.latencies, q) or 0.0) * 1000

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000

    @property
    def wall_ms(self) -> float:
        return self.wall / self.count * 1000

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.count * 1e6


def raw_block(conn: psycopg.Connection[object], n: int, side: Side) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        started = time.perf_counter()
        conn.execute(b"SELECT 1")
        side.latencies.append(time.perf_counter() - started)
    side.wall += time.perf_counter() - wall
    side.cpu += time.process_time() - cpu
    side.count += n


async def probe_block(probes: ProbeSet, n: int, side: Side) -> None:
    state = probes.states["proxy"]
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        await probes.run_once()
        side.latencies.append(state.samples[-1])
    side.wall += time.perf_counter() - wall
    side.cpu += time.process_time() - cpu
    side.count += n


async def measure(url: str, n: int) -> tuple[Side, Side]:
    raw, probe = Side(), Side()
    settings = ProbeSettings(interval_seconds=30, slo_seconds=0.1, timeout_seconds=5, window=60)
    probes = ProbeSet("UpskillDatabase", "bench", "bench", [PostgresProber("proxy", url)], settings)
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        for _ in range(50):  # warm both connections
            conn.execute(b"SELECT 1")
            await probes.run_once()
        block = max(1, n // BLOCKS)
        for _ in range(BLOCKS):
            raw_block(conn, block, raw)
            await probe_block(probes, block, probe)
    await probes.close()
    return raw, probe


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 2000
    with postgres() as url:
        raw, probe = asyncio.run(measure(url, n))
    rows = [
        ["p50 latency (ms)", f"{raw.ms(0.5):.3f}", f"{probe.ms(0.5):.3f}", f"{probe.ms(0.5) / raw.ms(0.5):.2f}"],
        ["p99 latency (ms)", f"{raw.ms(0.99):.3f}", f"{probe.ms(0.99):.3f}", f"{probe.ms(0.99) / raw.ms(0.99):.2f}"],
        ["mean latency (ms)", f"{raw.mean_ms:.3f}", f"{probe.mean_ms:.3f}", f"{probe.mean_ms / raw.mean_ms:.2f}"],
        [
            "wall time per probe (ms)",
            f"{raw.wall_ms:.3f}",
            f"{probe.wall_ms:.3f}",
            f"{probe.wall_ms / raw.wall_ms:.2f}",
        ],
        ["client CPU per probe (us)", f"{raw.cpu_us:.1f}", f"{probe.cpu_us:.1f}", f"{probe.cpu_us / raw.cpu_us:.2f}"],
    ]
    print(f"{raw.count} raw SELECT 1 and {probe.count} probes, alternating in {BLOCKS} blocks, one connection each\n")
    print_table(["measure", "raw psycopg", "probe", "probe / raw"], rows)


if __name__ == "__main__":
    main(sys.argv[1:])
