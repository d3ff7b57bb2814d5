"""Benchmark: N generated UpskillSecrets synced into Kubernetes Secrets, through the real operator.

    .venv/bin/python bench/secret_sync.py [N ...]        (default: 50 200)

Prints one row per N: apply-to-all-Ready time, AWS calls per secret at creation, AWS reads and
writes per secret per resync in steady state (the refresh tick runs every second here and
nothing is due, so any call it made would show there as ten times the resync's), the time from
an out-of-band change in Secrets Manager to the Kubernetes Secret (median of 5, bounded by the
resync interval), and the operator's peak RSS. Ten secrets share each Kubernetes Secret, as the
example stack's four share web-env.
"""

from __future__ import annotations

import base64
import os
import statistics
import sys
import time
from collections import Counter

import boto3

from common import REGION, Bed, bed, print_table, ready_count, wait

NAMESPACE = "bench"
RESYNC_SECONDS = 10.0
PER_SECRET = 10


def secret_doc(i: int) -> dict[str, object]:
    return {
        "apiVersion": "upskill.io/v1alpha1",
        "kind": "UpskillSecret",
        "metadata": {"name": f"s{i:04d}", "namespace": NAMESPACE},
        "spec": {
            "source": {"generate": {"length": 48, "excludePunctuation": True}},
            "target": {
                "secretName": f"env-{i // PER_SECRET:03d}",
                "key": f"KEY_{i:04d}",
                "refreshIntervalSeconds": 3600,
            },
        },
    }


def delta(state: Bed, before: Counter[tuple[str, str]]) -> tuple[int, int]:
    now = Counter(state.attempts())
    now.subtract(before)
    writes = sum(v for (_, op), v in now.items() if not op.startswith(("Describe", "List", "Get")))
    return sum(now.values()) - writes, writes


def kube_value(state: Bed, i: int) -> str | None:
    found = state.kube.get("v1", "secrets", NAMESPACE, f"env-{i // PER_SECRET:03d}") or {}
    raw = (found.get("data") or {}).get(f"KEY_{i:04d}")
    return base64.b64decode(raw).decode() if raw else None


def propagation(state: Bed, count: int) -> float:
    """Median seconds from put_secret_value to the new value in the Kubernetes Secret."""
    sm = boto3.client("secretsmanager", endpoint_url=state.aws.url, region_name=REGION)
    samples = []
    for k in range(5):
        i = (k * 7) % count
        value = f"out-of-band-{k}-{time.time()}"
        started = time.perf_counter()
        sm.put_secret_value(SecretId=f"upskill/{NAMESPACE}/s{i:04d}", SecretString=value)
        wait(lambda i=i, value=value: kube_value(state, i) == value, 3 * RESYNC_SECONDS, "out-of-band change synced")
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def run(count: int) -> list[str]:
    os.environ["UPSKILL_SECRET_TICK_SECONDS"] = "1"  # the operator subprocess inherits it
    with bed(RESYNC_SECONDS, NAMESPACE) as state:
        before = state.attempts()
        started = time.perf_counter()
        for i in range(count):
            state.kube.apply_manifest(secret_doc(i))
        wait(lambda: ready_count(state.kube, "upskillsecrets", NAMESPACE) == count, 60 + count, f"{count} Ready")
        ready_seconds = time.perf_counter() - started
        reads, writes = delta(state, before)
        create_calls = (reads + writes) / count
        time.sleep(RESYNC_SECONDS)  # let the creation passes' follow-ups settle
        before = state.attempts()
        time.sleep(2 * RESYNC_SECONDS)
        steady_reads, steady_writes = delta(state, before)
        return [
            str(count),
            f"{ready_seconds:.1f}",
            f"{create_calls:.1f}",
            f"{steady_reads / count / 2:.2f}",
            f"{steady_writes / count / 2:.2f}",
            f"{propagation(state, count):.1f}",
            f"{state.peak_rss / 2**20:.0f}",
        ]


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [50, 200]
    rows = [run(n) for n in counts]
    print_table(
        [
            "secrets",
            "apply→all Ready (s)",
            "AWS calls/secret to create",
            "reads/secret/resync",
            "writes/secret/resync",
            f"AWS change→Kubernetes, median (s, resync {RESYNC_SECONDS:.0f} s)",
            "operator peak RSS (MiB)",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
