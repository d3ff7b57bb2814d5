"""Benchmark: N UpskillTables through the operator vs the same work with boto3 directly, on an idle bed.

    .venv/bin/python bench/tables.py [N ...]        (default: 100 1000)

Per N, the operator applies N tables and the script waits for all Ready; then it measures one
deep-read cycle of steady-state resyncs (``deep_read_every`` of them, 3 minutes at the defaults);
then it STOPS the operator and runs the direct boto3 baseline on the same, now idle, emulators: the
same creates, TTL and PITR updates, from a thread pool of the operator's worker count
(``Settings.workers``) under the operator's client-side rate limit, as a good script would. The
ratio is printed both ways, with the machine's load average before and after each side. Figures go
to ``.bench/figures.json``.

AWS calls are every HTTP attempt (the operator's ``upskill_aws_api_attempts_total``); Kubernetes
writes are the operator's POST/PUT/PATCH/DELETE on ``upskilltables`` (status included, Events not).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from upskill_operator.config import Settings

from common import REGION, Bed, bed, limited, load, print_table, ratios, ready_count, record, wait

NAMESPACE = "bench"
RESYNC_SECONDS = 30.0
PLURAL = "upskilltables"


def table_doc(i: int) -> dict[str, object]:
    return {
        "apiVersion": "upskill.io/v1alpha1",
        "kind": "UpskillTable",
        "metadata": {"name": f"t{i:04d}", "namespace": NAMESPACE},
        "spec": {
            "keys": {"partition": {"name": "pk", "type": "S"}, "sort": {"name": "sk", "type": "S"}},
            "globalIndexes": [{"name": "byUser", "partition": {"name": "userId", "type": "S"}}],
            "ttlAttribute": "expiresAt",
            "stream": "NEW_IMAGE",
            "deletionProtection": False,
        },
    }


def create_one(client: Any, name: str) -> None:
    """The end state the operator reaches: create (tags in it), TTL, PITR."""
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "userId")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byUser",
                "KeySchema": [{"AttributeName": "userId", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        Tags=[{"Key": "upskill.io/owner", "Value": f"{NAMESPACE}/{name}"}],
    )
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})
    client.update_continuous_backups(
        TableName=name,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 35},
    )


def direct_boto3(url: str, count: int, workers: int) -> float:
    """The same tables with plain boto3, ``workers`` at a time (one client, shared: boto3 clients are thread-safe)."""
    ddb = limited(boto3.client("dynamodb", endpoint_url=url, region_name=REGION), "dynamodb")
    ddb.list_tables()  # build the client's endpoint and credentials before the clock starts
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda i: create_one(ddb, f"direct-{i:04d}"), range(count)))
    return time.perf_counter() - started


def steady_state(state: Bed, count: int) -> tuple[float, float, float]:
    """AWS reads, AWS writes and Kubernetes writes per table per resync, over one deep-read cycle.

    The deep reads (TTL, backups, tags) come on every ``deep_read_every``-th pass of a table, so a
    shorter window would miss them and flatter the figure: the window is that many resync intervals.
    """
    rounds = Settings().deep_read_every
    before, kube_before = state.attempts(), state.kube_writes(PLURAL)
    time.sleep(rounds * RESYNC_SECONDS)
    delta = Counter(state.attempts())
    delta.subtract(before)
    writes = sum(v for (_, op), v in delta.items() if not op.startswith(("Describe", "List", "Get")))
    reads = sum(delta.values()) - writes
    per = count * rounds
    return reads / per, writes / per, (state.kube_writes(PLURAL) - kube_before) / per


def run(count: int, workers: int) -> dict[str, float | str]:
    with bed(RESYNC_SECONDS, NAMESPACE) as state:
        time.sleep(3)  # let the operator settle (its watches and first list) before reading idle RSS
        idle_rss = state.rss()
        load_before = load()
        cpu, calls = state.cpu_seconds(), sum(state.attempts().values())
        started = time.perf_counter()
        for i in range(count):
            state.kube.apply_manifest(table_doc(i))
        # A 1 s poll: each poll lists (and copies) every object inside the emulator the operator waits on.
        wait(lambda: ready_count(state.kube, PLURAL, NAMESPACE) == count, 60 + count, f"{count} tables", every=1.0)
        operator_seconds = time.perf_counter() - started
        cpu_per_table = (state.cpu_seconds() - cpu) / count
        calls_per_table = (sum(state.attempts().values()) - calls) / count
        time.sleep(2)  # the last status writes land just after Ready shows
        kube_per_table = state.kube_writes(PLURAL) / count
        ready_rss = state.rss()
        reads, writes, kube_resync = steady_state(state, count)
        load_operator = load()
        state.stop_operator()
        time.sleep(5)  # let the emulators finish the operator's last requests
        load_idle = load()
        direct = direct_boto3(state.aws.url, count, workers)
        load_after = load()
    op_over, direct_over = ratios(operator_seconds, direct)
    return {
        "tables": count,
        "operator_seconds": operator_seconds,
        "direct_seconds": direct,
        "op_over_direct": op_over,
        "direct_over_op": direct_over,
        "aws_calls_per_table_created": calls_per_table,
        "kube_writes_per_table_created": kube_per_table,
        "operator_cpu_ms_per_table": cpu_per_table * 1000,
        "reads_per_table_per_resync": reads,
        "aws_writes_per_table_per_resync": writes,
        "kube_writes_per_table_per_resync": kube_resync,
        "idle_rss_mib": idle_rss / 2**20,
        "ready_rss_mib": ready_rss / 2**20,
        "peak_rss_mib": state.peak_rss / 2**20,
        "rss_per_1000_mib": (ready_rss - idle_rss) / 2**20 / count * 1000,
        "load": f"{load_before} -> {load_operator} | idle {load_idle} -> {load_after}",
    }


COLUMNS = [
    ("tables", "tables", "{:.0f}"),
    ("operator_seconds", "operator: apply→all Ready (s)", "{:.1f}"),
    ("direct_seconds", "boto3 direct, idle bed (s)", "{:.1f}"),
    ("op_over_direct", "operator/direct", "{}"),
    ("direct_over_op", "direct/operator", "{}"),
    ("aws_calls_per_table_created", "AWS calls/table to Ready", "{:.2f}"),
    ("kube_writes_per_table_created", "Kube writes/table to Ready", "{:.2f}"),
    ("operator_cpu_ms_per_table", "operator CPU ms/table", "{:.1f}"),
    ("reads_per_table_per_resync", "AWS reads/table/resync", "{:.2f}"),
    ("aws_writes_per_table_per_resync", "AWS writes/table/resync", "{:.2f}"),
    ("kube_writes_per_table_per_resync", "Kube writes/table/resync", "{:.2f}"),
    ("idle_rss_mib", "RSS idle (MiB)", "{:.0f}"),
    ("ready_rss_mib", "RSS all Ready (MiB)", "{:.0f}"),
    ("peak_rss_mib", "RSS peak (MiB)", "{:.0f}"),
    ("rss_per_1000_mib", "RSS per 1,000 tables (MiB)", "{:.1f}"),
]


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [100, 1000]
    workers = Settings().workers
    results = [run(n, workers) for n in counts]
    print(f"direct baseline: {workers} threads (the operator's worker count), operator stopped\n")
    print_table([title for _, title, _ in COLUMNS], [[f.format(r[k]) for k, _, f in COLUMNS] for r in results])
    print("\nload average (1/5/15 min): before operator -> after operator | before baseline -> after baseline")
    for r in results:
        print(f"  {r['tables']} tables: {r['load']}")
    largest = max(results, key=lambda r: float(r["tables"]))
    record("tables", {k: v for k, v in largest.items() if isinstance(v, int | float)})
    record(
        "tables",
        {
            "ready_ratio": float(largest["operator_seconds"]) / float(largest["direct_seconds"]),
            "writes_per_table_per_resync": float(largest["aws_writes_per_table_per_resync"])
            + float(largest["kube_writes_per_table_per_resync"]),
        },
    )


if __name__ == "__main__":
    main()
