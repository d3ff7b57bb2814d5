"""Benchmark: how long a spec change waits when kopf's status PATCH answers 409 Conflict.

    .venv/bin/python bench/stuck_recovery.py [TABLES] [STUCK]        (default: 20 5)

kopf 1.45 loses its wake-up when one of its own PATCHes gets a 409 (background/sweeper.py says
how). Per row: TABLES UpskillTables are applied and Ready; the next status PATCH of STUCK of
them is made to answer 409; then every spec changes (a TTL attribute). The table gives the time
from the change until all non-stuck tables and all stuck ones are Ready for the new generation,
and the sweeper's nudges. Rows: the sweeper off (only the resync timer recovers; 120 s here,
20 minutes for databases by default), the defaults (sweep 60 s, grace 60 s), and a fast setting.
The operator runs as ``upskill-operator run`` and reads the settings from ``UPSKILL_*`` variables.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
import urllib.request
from typing import Any

from common import API, Bed, bed, print_table, wait

NAMESPACE = "bench"
_NUDGES = re.compile(r"^upskill_sweeper_nudges_total\{[^}]*\} ([0-9.e+]+)$")


def table(name: str, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"keys": {"partition": {"name": "pk", "type": "S"}}, "deletionProtection": False}
    spec.update(extra)
    return {"apiVersion": API, "kind": "UpskillTable", "metadata": {"name": name, "namespace": NAMESPACE}, "spec": spec}


def current(state: Bed, name: str) -> bool:
    """Ready for the object's current generation."""
    obj = state.kube.get(API, "upskilltables", NAMESPACE, name) or {}
    gen = obj.get("metadata", {}).get("generation")
    conds = (obj.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" and c.get("observedGeneration") == gen for c in conds)


def nudges(state: Bed) -> int:
    text = urllib.request.urlopen(state.metrics_url, timeout=5).read().decode()
    return sum(int(float(m.group(1))) for line in text.splitlines() if (m := _NUDGES.match(line)))


def run(label: str, sweep: float, grace: float, resync: float, count: int, stuck: int) -> list[str]:
    os.environ["UPSKILL_SWEEP_SECONDS"] = str(sweep)  # the operator subprocess inherits them
    os.environ["UPSKILL_SWEEP_GRACE_SECONDS"] = str(grace)
    names = [f"t{i:03d}" for i in range(count)]
    with bed(resync, NAMESPACE) as state:
        for name in names:
            state.kube.apply_manifest(table(name))
        wait(lambda: all(current(state, n) for n in names), 120, "all tables Ready")
        faults = [state.kube.inject_fault("PATCH", rf"/upskilltables/{n}/status$", status=409) for n in names[:stuck]]
        started = time.perf_counter()
        for name in names:
            state.kube.apply_manifest(table(name, ttlAttribute="expiresAt"))
        done: dict[str, float] = {}

        def all_current() -> bool:
            for name in names:
                if name not in done and current(state, name):
                    done[name] = time.perf_counter() - started
            return len(done) == len(names)

        wait(all_current, 3 * max(resync, sweep + 2 * grace) + 60, "every change applied")
        assert all(f.hits == 1 for f in faults), [f.hits for f in faults]
        fine = [done[n] for n in names[stuck:]]
        late = [done[n] for n in names[:stuck]]
        return [
            label,
            f"{sweep:g} / {grace:g}" if sweep else "off",
            f"{resync:g}",
            f"{statistics.median(fine):.1f}",
            f"{min(late):.1f} to {max(late):.1f}",
            str(nudges(state)),
        ]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    stuck = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rows = [
        run("resync only", 0, 60, 120, count, stuck),
        run("defaults", 60, 60, 3600, count, stuck),
        run("fast sweep", 5, 5, 3600, count, stuck),
    ]
    print(f"\n{count} tables, the status PATCH of {stuck} answers 409 once; seconds from the spec change\n")
    headers = ["setting", "sweep / grace (s)", "resync (s)", "others Ready (median)", "stuck ones Ready", "nudges"]
    print_table(headers, rows)


if __name__ == "__main__":
    main()
