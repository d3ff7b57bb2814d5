"""Benchmark: N UpskillTables through the operator vs the same work with boto3 directly.

    .venv/bin/python bench/tables.py [N ...]        (default: 100 1000)

Prints one row per N: apply-to-all-Ready time, the direct boto3 time for the
same tables, their ratio, AWS calls per table during one steady-state resync
(counted per HTTP attempt at the botocore layer), the Kubernetes Events posted
per table to Ready and per resync, and the operator's peak RSS.
"""

from __future__ import annotations

import sys
import time
from collections import Counter

import boto3

from common import REGION, Bed, bed, print_table, ready_count, wait

NAMESPACE = "bench"
RESYNC_SECONDS = 30.0


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


def direct_boto3(url: str, count: int) -> float:
    """The same end state with plain boto3: create, TTL, PITR, tags in create."""
    ddb = boto3.client("dynamodb", endpoint_url=url, region_name=REGION)
    started = time.perf_counter()
    for i in range(count):
        name = f"direct-{i:04d}"
        ddb.create_table(
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
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})
        ddb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 35},
        )
    return time.perf_counter() - started


def events_posted(state: Bed) -> int:
    """Kubernetes Events the operator has posted so far."""
    return state.kube.requests.count("POST", r"/events$")


def steady_state(state: Bed, count: int) -> tuple[float, float, float]:
    """Reads, writes and Events per table over two resync intervals, halved."""
    before, events = state.attempts(), events_posted(state)
    time.sleep(2 * RESYNC_SECONDS)
    delta = Counter(state.attempts())
    delta.subtract(before)
    writes = sum(v for (svc, op), v in delta.items() if not op.startswith(("Describe", "List", "Get")))
    reads = sum(delta.values()) - writes
    return reads / count / 2, writes / count / 2, (events_posted(state) - events) / count / 2


def run(count: int) -> list[str]:
    with bed(RESYNC_SECONDS, NAMESPACE) as state:
        started = time.perf_counter()
        for i in range(count):
            state.kube.apply_manifest(table_doc(i))
        wait(lambda: ready_count(state.kube, "upskilltables", NAMESPACE) == count, 60 + count, f"{count} tables Ready")
        operator_seconds = time.perf_counter() - started
        time.sleep(2)  # kopf posts Events from its own queue, just after the status write
        created_events = events_posted(state) / count
        reads, writes, resync_events = steady_state(state, count)
        direct = direct_boto3(state.aws.url, count)
        return [
            str(count),
            f"{operator_seconds:.1f}",
            f"{direct:.1f}",
            f"{operator_seconds / direct:.2f}",
            f"{reads:.2f}",
            f"{writes:.2f}",
            f"{created_events:.2f}",
            f"{resync_events:.2f}",
            f"{state.peak_rss / 2**20:.0f}",
        ]


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [100, 1000]
    rows = [run(n) for n in counts]
    print_table(
        [
            "tables",
            "operator: apply→all Ready (s)",
            "boto3 direct (s)",
            "ratio",
            "reads/table/resync",
            "writes/table/resync",
            "Events/table to Ready",
            "Events/table/resync",
            "operator peak RSS (MiB)",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
