"""``upskill-operator check``: the post-deploy connection test a pipeline can gate on.

It connects through every endpoint of every UpskillDatabase (proxy read/write and read-only,
or the cluster endpoints) and every UpskillTable (a GetItem) in a namespace, a few times each,
and prints one row per endpoint: p50, p99, the objective and the result. It also uses the values apps
receive: each database UpskillSecret's target Secret (check_values) and each UpskillTable's
ConfigMap (check_tables: DescribeTable, a Query on the table and on each index), one row per call. It exits 1 when any
row fails, is not reachable yet, or has a p99 above its objective (spec.probe.sloMilliseconds,
100 ms when unset), and when there is nothing to check at all.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from upskill_operator.aws.session import AwsClients
from upskill_operator.commands.check_tables import table_rows
from upskill_operator.commands.check_values import value_rows
from upskill_operator.commands.sandbox_context import with_sandbox
from upskill_operator.config import Settings
from upskill_operator.errors import OperatorError
from upskill_operator.kube.client import Kube, load_configuration
from upskill_operator.kube.custom_status import list_custom_objects
from upskill_operator.kube.secrets import KubeSecrets
from upskill_operator.models import KINDS
from upskill_operator.probes.plan import plan_for
from upskill_operator.probes.window import ProbeSet, ProbeSettings

__all__ = ["check", "render", "run"]

Row = tuple[str, str, str, str, str, str, str, str]
HEADERS: Row = ("KIND", "NAME", "ENDPOINT", "SOURCE", "P50 MS", "P99 MS", "SLO MS", "RESULT")
CHECKED = ("UpskillDatabase", "UpskillTable")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.2f}"


async def _check_one(kind: str, body: dict[str, Any], settings: Settings, aws: AwsClients, samples: int) -> list[Row]:
    name = body["metadata"]["name"]
    namespace = body["metadata"].get("namespace", "")
    plan = plan_for(kind, body, settings, aws, force=True)
    if plan is None:
        return [(kind, name, "-", "probe", "-", "-", "-", "FAIL not reachable yet (no endpoint or table in status)")]
    probe = ProbeSettings(
        interval_seconds=0, slo_seconds=plan.settings.slo_seconds, timeout_seconds=settings.probe_timeout_seconds
    )
    probes = ProbeSet(kind, namespace, name, plan.build(), probe)
    try:
        for _ in range(samples):
            await probes.run_once()
    finally:
        await probes.close()
    rows: list[Row] = []
    slo = probe.slo_seconds
    for label, state in probes.states.items():
        if state.last_failure is not None:
            result = f"FAIL {state.last_failure.reason}: {state.last_failure}"
        elif state.p99 is not None and state.p99 > slo:
            result = "FAIL slower than the objective"
        else:
            result = "ok"
        rows.append((kind, name, label, "probe", _ms(state.p50), _ms(state.p99), f"{slo * 1000:g}", result))
    return rows


async def check(
    objects: Sequence[tuple[str, dict[str, Any]]], settings: Settings, aws: AwsClients, samples: int
) -> list[Row]:
    """One row per endpoint of every object, probed concurrently."""
    results = await asyncio.gather(*(_check_one(kind, body, settings, aws, samples) for kind, body in objects))
    return [row for rows in results for row in rows]


def render(rows: Sequence[Row]) -> str:
    widths = [max(len(r[i]) for r in [HEADERS, *rows]) for i in range(len(HEADERS))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [HEADERS, *rows]
    )


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    settings = Settings.from_env()
    updates: dict[str, Any] = {"probe_timeout_seconds": args.timeout}
    if args.kubeconfig:
        updates["kubeconfig"] = str(args.kubeconfig)
    settings = with_sandbox(settings.model_copy(update=updates))
    kube = Kube(load_configuration(settings.kubeconfig))
    aws = AwsClients(settings.aws)
    try:
        objects = [
            (info.kind, obj)
            for info in KINDS
            if info.kind in CHECKED
            for obj in list_custom_objects(kube, info.plural, args.namespace)
        ]
        secrets = list_custom_objects(kube, "upskillsecrets", args.namespace)
        values = [
            ("UpskillSecret", name, endpoint, source, _ms(result.seconds), "-", "-", result.message)
            for name, source, endpoint, result in value_rows(secrets, KubeSecrets(kube), settings, aws)
        ]
        tables = [body for kind, body in objects if kind == "UpskillTable"]
        values += [
            ("UpskillTable", name, call, source, _ms(result.seconds), "-", "-", result.message)
            for name, source, call, result in table_rows(tables, kube, aws)
        ]
    except OperatorError as exc:
        print(f"error: {exc}", file=err)
        return 1
    finally:
        kube.close()
    if not objects and not values:
        print(
            f"nothing to check: no UpskillDatabase, UpskillTable or UpskillSecret in namespace {args.namespace}",
            file=err,
        )
        return 1
    rows: list[Row] = values + asyncio.run(check(objects, settings, aws, args.samples))
    print(render(rows), file=out)
    failed = [r for r in rows if not r[-1].startswith("ok")]
    print(f"{len(rows) - len(failed)} of {len(rows)} endpoints ok", file=out)
    return 1 if failed else 0
