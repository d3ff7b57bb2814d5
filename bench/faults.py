"""Benchmark: the whole example stack with a share of AWS attempts failing, against the same run without faults.

    .venv/bin/python bench/faults.py [RATE ...]        (default: 0 0.2)

Each run is :func:`upskill_sandbox.fault_run.fault_run` (the fault test's run: moto with
RDS's transitional states, the Kubernetes emulator, PostgreSQL behind the clusters, the real
operator in this process, faults injected after botocore's serialisation: throttling, 500, 503,
connection resets, read timeouts). For every rate it runs twice: with botocore's ``max_attempts``
at 2 (4 % of calls fail through to the operator at 20 %: its own backoff is exercised) and at 5,
the operator's default (botocore absorbs nearly every fault).

Tables:

1. per run: time to all Ready, logical AWS calls, HTTP attempts, retries (attempts - calls),
   injected faults by kind, Recoverable passes;
2. per resource, for the last faulty run with ``max_attempts`` 2: passes, Recoverable conditions
   written, calls, attempts, retries, faults, calls that failed every attempt, most attempts of a call.
"""

from __future__ import annotations

import logging
import sys
import warnings

from upskill_sandbox.fault_run import FaultRun, FaultRunOptions, fault_run

from common import print_table


def summary(run: FaultRun) -> list[str]:
    total = run.ledger.totals()
    injected = run.ledger.injected()
    kinds = " ".join(f"{k}:{injected.get(k, 0)}" for k in run.options.kinds) if injected else "-"
    ready = f"{run.seconds_to_ready:.1f}" if run.seconds_to_ready is not None else f"NOT READY: {run.not_ready}"
    return [
        f"{run.options.rate:.0%}",
        str(run.options.max_attempts),
        ready,
        str(total.logical),
        str(total.attempts),
        str(total.retries),
        kinds,
        str(total.recoverable),
    ]


def main() -> None:
    logging.basicConfig(level=logging.CRITICAL)
    warnings.filterwarnings("ignore")
    rates = [float(a) for a in sys.argv[1:]] or [0.0, 0.2]
    rows, detail = [], ""
    for index, (rate, attempts) in enumerate((r, a) for r in rates for a in (2, 5)):
        options = FaultRunOptions(rate=rate, max_attempts=attempts, requeue_seconds=0.5, namespace=f"bench-{index}")
        with fault_run(options) as run:
            rows.append(summary(run))
            if rate and attempts == 2:
                detail = run.report()
        print(f"done: rate {rate:.0%}, max_attempts {attempts}", file=sys.stderr, flush=True)
    head = ["fault rate", "max_attempts", "s to all Ready", "calls", "attempts", "retries", "injected", "Recoverable"]
    print_table(head, rows)
    if detail:
        print()
        print(detail)


if __name__ == "__main__":
    main()
