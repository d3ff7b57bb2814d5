"""Benchmark: writes per object, to Kubernetes and to AWS, on the way to Ready and at steady state.

    .venv/bin/python bench/steady.py [TABLES [SECRETS]]        (default: 20 10; plus both example databases)

One row per kind: Kubernetes writes per object to reach Ready (every PATCH, PUT or DELETE the
emulator served on the object or its /status, counted from its request log; the user's own create
is not counted), then over several short resyncs with nothing changing: Kubernetes writes per object
per resync (the object, its status), Events posted per object per resync, and AWS writes and reads
per object per resync (the operator's own ``upskill_aws_api_attempts_total``, by service: dynamodb
for tables, secrets-manager for secrets, rds, ec2 and iam for databases). The example databases have
``spec.monitoring`` (CloudWatch alarms), and so has every fourth table: CloudWatch calls, shared by the
namespace's monitored objects, get a row of their own ("alarms", per monitored object).

To compare with another revision, run this file with that revision's ``operator/`` first on
``PYTHONPATH`` (the operator subprocess inherits it).
"""

from __future__ import annotations

import copy
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from upskill_operator.config import Settings
from upskill_operator.generate import kubectl_yaml

from common import REGION, Bed, bed, print_table, ready_count, wait

NAMESPACE = "bench"
RESYNC = 4.0
ROUNDS = Settings().deep_read_every
"""The steady window: one deep-read cycle, so each object's deep reads fall in it once."""
EXAMPLES = Path(__file__).parents[1] / "manifests/examples/upskill-stack"
WRITES = ("PATCH", "PUT", "DELETE")
SERVICES = {
    "UpskillTable": ("dynamodb",),
    "UpskillSecret": ("secrets-manager",),
    "UpskillDatabase": ("rds", "ec2", "iam"),
    "alarms": ("cloudwatch",),
}
"""AWS services counted per kind. CloudWatch's reads are shared by every monitored object of the namespace
(one DescribeAlarms by its prefix), so they have a row of their own, per monitored object."""
PLURALS = {"UpskillTable": "upskilltables", "UpskillSecret": "upskillsecrets", "UpskillDatabase": "upskilldatabases"}
READS = ("Describe", "List", "Get")


def resource(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "upskill.io/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def table(i: int) -> dict[str, Any]:
    spec = {
        "keys": {"partition": {"name": "pk", "type": "S"}},
        "ttlAttribute": "expiresAt",
        "deletionProtection": False,
    }
    if i % 4 == 0:  # a quarter of the tables with their CloudWatch alarms
        spec["monitoring"] = {}
    return resource("UpskillTable", f"t{i:03d}", spec)


def secret(i: int) -> dict[str, Any]:
    spec = {"source": {"generate": {"length": 32}}, "target": {"secretName": f"env-{i:03d}", "key": "TOKEN"}}
    return resource("UpskillSecret", f"s{i:03d}", spec)


def database(which: str) -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(kubectl_yaml.load((EXAMPLES / f"{which}-db.yaml").read_text()))
    for key in ("migrations", "probe"):  # no PostgreSQL here: the reconcile passes only
        doc["spec"].pop(key, None)
    doc["spec"].update(deletionProtection=False)
    doc["metadata"] = {"name": f"{which}-db"}
    return doc


def object_writes(state: Bed, kind: str, names: list[str]) -> int:
    paths = tuple(f"/{PLURALS[kind]}/{n}" for n in names)
    return sum(
        1
        for method, path in state.kube.requests.snapshot()
        if method in WRITES and path.removesuffix("/status").endswith(paths)
    )


def aws_calls(delta: Counter[tuple[str, str]], kind: str) -> tuple[int, int]:
    mine = {k: v for k, v in delta.items() if k[0] in SERVICES[kind]}
    reads = sum(v for (_, op), v in mine.items() if op.startswith(READS))
    return sum(mine.values()) - reads, reads


def apply_all(state: Bed, docs: dict[str, list[dict[str, Any]]]) -> None:
    state.aws.seed_vpc(REGION)
    for kind_docs in docs.values():
        for doc in kind_docs:
            doc["metadata"]["namespace"] = NAMESPACE
            state.kube.apply_manifest(doc)
    for kind, kind_docs in docs.items():
        want = len(kind_docs)
        wait(lambda k=kind, n=want: ready_count(state.kube, PLURALS[k], NAMESPACE) == n, 180, f"{kind} Ready")


def main() -> None:
    tables = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    secrets = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    docs = {
        "UpskillTable": [table(i) for i in range(tables)],
        "UpskillSecret": [secret(i) for i in range(secrets)],
        "UpskillDatabase": [database("auth"), database("course")],
    }
    os.environ["UPSKILL_SECRET_TICK_SECONDS"] = "1"
    names = {kind: [d["metadata"]["name"] for d in kind_docs] for kind, kind_docs in docs.items()}
    os.environ["UPSKILL_KIND_RESYNC_SECONDS"] = "UpskillDatabase=3600"
    with bed(3600, NAMESPACE) as state:  # creation only: no resync pass in these counts
        apply_all(state, docs)
        time.sleep(2)  # a requeue or write still under way after Ready is part of the creation
        to_ready = {kind: object_writes(state, kind, names[kind]) for kind in docs}
    os.environ["UPSKILL_KIND_RESYNC_SECONDS"] = f"UpskillDatabase={RESYNC}"
    with bed(RESYNC, NAMESPACE) as state:
        apply_all(state, docs)
        time.sleep(2 * RESYNC)  # passes under way at Ready finish
        state.kube.requests.clear()
        before = state.attempts()
        time.sleep(ROUNDS * RESYNC)
        delta = Counter(state.attempts())
        delta.subtract(before)
        events = state.kube.requests.count("POST", r"/events$")
        rows, breakdown = [], []
        monitored = [d for kind_docs in docs.values() for d in kind_docs if "monitoring" in d["spec"]]
        for kind, kind_docs in [*docs.items(), ("alarms", monitored)]:
            count = len(kind_docs)
            aws_writes, aws_reads = aws_calls(delta, kind)
            per = count * ROUNDS
            ops = sorted((op, v) for (service, op), v in delta.items() if service in SERVICES[kind] and v > 0)
            breakdown.append([kind, ", ".join(f"{op} {v / per:.2f}" for op, v in ops if op.startswith(READS))])
            rows.append(
                [
                    kind,
                    str(count),
                    f"{to_ready[kind] / count:.2f}" if kind in to_ready else "-",
                    f"{object_writes(state, kind, names[kind]) / per:.2f}" if kind in names else "-",
                    f"{aws_writes / per:.2f}",
                    f"{aws_reads / per:.2f}",
                ]
            )
    print_table(
        [
            "kind",
            "objects",
            "K8s writes/object to Ready",
            "K8s writes/object/resync",
            "AWS writes/object/resync",
            "AWS reads/object/resync",
        ],
        rows,
    )
    print(f"Events posted in the steady window ({ROUNDS} resyncs of {RESYNC:g} s): {events}")
    print_table(["kind", "AWS reads per object per resync, by operation"], breakdown)


if __name__ == "__main__":
    main()
