"""Benchmark: the scale we promise on 2 cores, through the real operator in its own process.

    .venv/bin/python bench/load.py [--tables N] [--databases M] [--generated G] [--quick] [--rate-limits on|off]

Defaults: 1,000 UpskillTables, 200 UpskillDatabases (alternating the auth-db and course-db examples),
an UpskillSecret with each database's proxy URL, and 100 generated UpskillSecrets; ``--quick`` is
100 / 20 / 10 with 30 s resyncs. The phases, each timed and counted from the operator's metrics:

1. **Apply** every manifest at once (a Git sync of the fleet) and wait for all Ready: time by kind,
   AWS calls by service, and the floor the default RDS limit (8 calls/s) puts on the databases:
   their RDS calls / 8. With ``--rate-limits off`` (the default: about 7 minutes at full scale on
   2 cores) the operator runs unthrottled and the floor says what the limit would cost; ``on``
   (about 25 minutes) runs the real-account guards and shows which of the two dominates.
2. **Steady state**: phase 1 runs the default resyncs (300 s; 1,200 s for databases); the operator
   is then restarted with every kind resyncing every 120 s (30 s with ``--quick``). After one
   interval to settle (the resume pass, then each object's first resync), one interval is
   measured, so each object resyncs once in it: AWS calls per minute, writes (anything but 0 is
   false drift), operator CPU, and calls per pass by kind, extrapolated to the default intervals
   (secrets also refresh every 300 s by default, counted as a second pass: an upper bound; KMS is
   time-cached, so it is kept as measured). With the limits on, 200 databases resyncing every
   120 s ask about twice the RDS limit: the row says so, and every kind then queues.
3. **Rolling change** of 10 %: a tag on every tenth table and generated secret, a new backup window
   on every tenth database, applied one after another; time until each shows Ready for its new
   generation and AWS shows the change (read with boto3), and the calls and writes it cost.

Also: the operator's peak RSS (sampled every 0.2 s) and its RSS at steady state, and the reconcile
p50 / p99 per kind and phase, from ``upskill_reconcile_duration_seconds`` (waiting for the object's
lock, a worker thread and the rate limiters included; beyond the last bucket it shows as > 30 s).
The emulated RDS has no transitional states: AWS's own minutes of creation are not measured. The
emulators share the 2 cores with the operator.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import time
from typing import Any

from load_bed import LoadBed, Scrape, load_bed, quantile
from load_fleet import PLURALS, Check, Fleet
from upskill_operator.config import AwsSettings, Settings

from common import API, print_table

NAMESPACE = "load"
KINDS = tuple(PLURALS)
OWNER = {"dynamodb": "UpskillTable", "rds": "UpskillDatabase", "ec2": "UpskillDatabase", "iam": "UpskillDatabase"}
OWNER["secrets-manager"] = "UpskillSecret"
REFRESH_SECONDS = 300.0  # UpskillSecret's default target.refreshIntervalSeconds


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int)
    parser.add_argument("--databases", type=int)
    parser.add_argument("--generated", type=int, help="generated UpskillSecrets (besides one URL per database)")
    parser.add_argument("--quick", action="store_true", help="100 tables, 20 databases, 10 generated; short windows")
    parser.add_argument("--rate-limits", choices=("on", "off"), default="off", help="the client-side AWS limits")
    parser.add_argument("--workers", type=int, default=Settings().workers, help="the operator's worker threads")
    args = parser.parse_args()
    scale = (100, 20, 10) if args.quick else (1000, 200, 100)
    args.tables = scale[0] if args.tables is None else args.tables
    args.databases = scale[1] if args.databases is None else args.databases
    args.generated = scale[2] if args.generated is None else args.generated
    interval = 30.0 if args.quick else 120.0
    args.resync = {"default": interval, "UpskillDatabase": interval}
    args.settle = args.window = interval
    return args


def condition(obj: dict[str, Any], ctype: str) -> dict[str, Any]:
    found = next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == ctype), {})
    return dict(found)


def is_ready(obj: dict[str, Any]) -> bool:
    """Ready=True for the object's current generation."""
    cond = condition(obj, "Ready")
    return cond.get("status") == "True" and cond.get("observedGeneration") == obj["metadata"].get("generation")


def ready_counts(state: LoadBed, fleet: Fleet) -> dict[str, int]:
    """Objects Ready by kind; stops the run at the first Terminal one (waiting would never end)."""
    counts = dict.fromkeys(KINDS, 0)
    for kind, plural in PLURALS.items():
        for obj in state.kube.list(API, plural, fleet.namespace):
            counts[kind] += is_ready(obj)
            if condition(obj, "Terminal").get("status") == "True":
                raise SystemExit(f"{kind} {obj['metadata']['name']} is Terminal: {condition(obj, 'Terminal')}")
    return counts


def all_ready(state: LoadBed, fleet: Fleet, started: float, timeout: float) -> dict[str, float]:
    """Seconds from the first apply until every object of each kind is Ready."""
    done: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(done) < len(KINDS):
        counts = ready_counts(state, fleet)
        for kind in KINDS:
            if kind not in done and counts[kind] >= fleet.counts[kind]:
                done[kind] = time.perf_counter() - started
        if time.monotonic() > deadline:
            raise SystemExit(f"not all Ready after {timeout:.0f}s: {counts} of {fleet.counts}")
        progress(f"Ready: {counts} of {fleet.counts}")
        time.sleep(3.0)
    return done


def rollout(state: LoadBed, fleet: Fleet) -> tuple[float, int, Scrape]:
    """Apply the 10 % change one object after another; seconds until AWS shows all of it, and its calls."""
    docs, check = fleet.rollout(), Check(state.aws, fleet.namespace)
    before, started = state.scrape(), time.perf_counter()
    for doc in docs:
        state.kube.apply_manifest(doc)
    pending = list(docs)

    def converged() -> bool:
        ready = {(k, n) for k, n in _ready_names(state, fleet, pending)}
        pending[:] = [d for d in pending if (d["kind"], d["metadata"]["name"]) not in ready or not check.applied(d)]
        return not pending

    deadline = time.monotonic() + 600
    while not converged():  # once a second: the check's reads load the same emulators the operator uses
        if time.monotonic() > deadline:
            raise SystemExit(f"the rolling change did not converge: {len(pending)} objects left")
        time.sleep(1.0)
    return time.perf_counter() - started, len(docs), state.scrape() - before


def _ready_names(state: LoadBed, fleet: Fleet, docs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    names = []
    for doc in docs:
        obj = state.kube.get(API, PLURALS[doc["kind"]], fleet.namespace, doc["metadata"]["name"])
        if obj is not None and is_ready(obj):
            names.append((doc["kind"], doc["metadata"]["name"]))
    return names


def progress(text: str, *, every: float = 15.0, _last: list[float] = [0.0]) -> None:  # noqa: B006 - a clock
    """A line on stderr now and then, so a long run shows where it is."""
    now = time.monotonic()
    if now - _last[0] >= every:
        _last[0] = now
        print(f"[load {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def seconds(value: float) -> str:
    if math.isnan(value):
        return "-"
    return "> 30 s" if math.isinf(value) else f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def by_service(scrape: Scrape, per: float = 1.0) -> str:
    totals: dict[str, int] = {}
    for (service, _), n in scrape.attempts.items():
        totals[service] = totals.get(service, 0) + n
    return ", ".join(f"{s} {n / per:,.0f}" for s, n in sorted(totals.items(), key=lambda kv: -kv[1]) if n)


def extrapolate(steady: Scrape, fleet: Fleet, window: float) -> tuple[float, str]:
    """Calls per minute at the default resyncs: calls per pass of each kind x default passes per minute."""
    defaults = Settings()
    per_minute: dict[str, float] = {}
    for kind in KINDS:
        passes = sum(n for (k, _), n in steady.passes.items() if k == kind)
        calls = sum(n for (service, _), n in steady.attempts.items() if OWNER.get(service) == kind)
        resync = defaults.kind_resync_seconds.get(kind, defaults.resync_seconds)
        rate = 60 / resync + (60 / REFRESH_SECONDS if kind == "UpskillSecret" else 0.0)
        per_minute[kind] = calls / passes * fleet.counts[kind] * rate if passes else 0.0
    per_minute["kms (as measured)"] = steady.calls(("kms",)) / window * 60
    text = ", ".join(f"{k} {v:,.0f}" for k, v in per_minute.items())
    return sum(per_minute.values()), text


def latency_row(phases: dict[str, Scrape]) -> str:
    parts = []
    for kind in KINDS:
        values = " / ".join(
            f"{seconds(quantile(0.5, s.buckets.get(kind, {})))}, {seconds(quantile(0.99, s.buckets.get(kind, {})))}"
            for s in phases.values()
        )
        parts.append(f"{kind.removeprefix('Upskill')} {values}")
    return "; ".join(parts)


def main() -> None:
    args = parse()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the bed stops the operator process
    fleet = Fleet(NAMESPACE, args.tables, args.databases, args.generated)
    limits = AwsSettings().calls_per_second if args.rate_limits == "on" else {}
    defaults = Settings()
    with load_bed(NAMESPACE, requeue=defaults.requeue_seconds, rate_limits=bool(limits), workers=args.workers) as state:
        state.start({"default": defaults.resync_seconds, **defaults.kind_resync_seconds})  # the real resyncs
        start_scrape, started, cpu = state.scrape(), time.perf_counter(), state.cpu_seconds()
        for doc in fleet.manifests():
            state.kube.apply_manifest(doc)
        applied = time.perf_counter() - started
        ready = all_ready(state, fleet, started, timeout=3600)
        creation, creation_cpu = state.scrape() - start_scrape, state.cpu_seconds() - cpu
        creation_peak = state.peak_rss
        progress("all Ready; restarting the operator with short resyncs, settling for one interval", every=0)
        state.restart(args.resync)
        time.sleep(args.settle)  # the resume pass of every object, then each one's first resync
        before, cpu = state.scrape(), state.cpu_seconds()
        time.sleep(args.window)
        steady, steady_rss, steady_cpu = state.scrape() - before, state.rss, state.cpu_seconds() - cpu
        progress("steady state measured; rolling out", every=0)
        roll_seconds, rolled, roll = rollout(state, fleet)
        peak = max(creation_peak, state.peak_rss)

    rds_limit = AwsSettings().calls_per_second["rds"]
    floor, took = creation.calls(("rds",)) / rds_limit, ready["UpskillDatabase"]
    if limits:
        verdict = "the RDS limit dominates" if floor >= 0.8 * took else "the operator dominates"
    else:
        verdict = f"unthrottled: {took:.0f} s; with the limit on, the limit would dominate ({floor / took:.1f}x)"
    measured = steady.calls() / args.window * 60
    extrapolated, parts = extrapolate(steady, fleet, args.window)
    fleet_text = f"{fleet.tables} tables, {fleet.databases} databases, {fleet.secrets} secrets "
    fleet_text += f"({fleet.databases} database URLs, {fleet.generated} generated)"
    kinds_ready = ", ".join(f"{k.removeprefix('Upskill')}s {v:.0f} s" for k, v in ready.items())
    rss = f"peak {peak / 2**20:.0f} MiB (creation {creation_peak / 2**20:.0f}), steady {steady_rss / 2**20:.0f} MiB"
    cpu_text = f"creation {creation_cpu / max(ready.values()):.2f}, steady {steady_cpu / args.window:.2f}"
    steady_text = f"{measured:,.0f} ({by_service(steady, args.window / 60)}); "
    steady_text += f"writes in window: {steady.calls(writes=True)}"
    db_passes = sum(n for (k, _), n in steady.passes.items() if k == "UpskillDatabase")
    demand = steady.calls(("rds",)) / db_passes * fleet.databases / args.window if db_passes else 0.0
    if limits and demand > rds_limit:
        steady_text += f"; saturated: this resync asks {demand:.0f} RDS calls/s of {rds_limit:g}/s; all kinds queue"
    writes = roll.calls(writes=True)
    roll_text = f"{roll_seconds:.0f} s to converge; {roll.calls():,} calls, {writes} writes "
    roll_text += f"({writes / max(rolled, 1):.2f} per object)"
    rows = [
        ["fleet", fleet_text],
        ["client-side AWS limits", ", ".join(f"{s} {r:g}/s" for s, r in limits.items()) or "off"],
        ["apply (all manifests, s)", f"{applied:.1f}"],
        ["time to all Ready", f"{max(ready.values()):.0f} s ({kinds_ready})"],
        ["AWS calls to all Ready", f"{creation.calls():,} ({by_service(creation)})"],
        [f"RDS-limit floor for the databases (RDS calls / {rds_limit:g} per s)", f"{floor:.0f} s: {verdict}"],
        ["operator RSS", rss],
        ["operator CPU (cores)", cpu_text],
        ["reconcile p50, p99: creation / steady / rollout", latency_row({"c": creation, "s": steady, "r": roll})],
        [f"AWS calls/min, steady, measured (every kind resyncs every {args.window:.0f} s)", steady_text],
        ["AWS calls/min at default resyncs (extrapolated)", f"{extrapolated:,.0f} ({parts})"],
        [f"rolling change: {rolled} objects (10 %)", roll_text],
    ]
    print_table(["measure", "value"], rows)


if __name__ == "__main__":
    main()
