"""The whole example stack applied while a share of AWS attempts fail: the fault test's and bench's run.

:func:`fault_run` starts what ``upskill-sandbox`` starts (moto with RDS's transitional
states, the Kubernetes emulator, PostgreSQL with a :class:`~.rds_backer.ClusterBacker`, so that
migrations and probes connect), installs a :class:`~.faults.FaultInjector` behind a
:class:`~.call_ledger.CallLedger`, runs the real operator, applies
``manifests/examples/upskill-stack/`` and waits until every resource is Ready (or the timeout).
It yields a :class:`FaultRun` while everything still runs, so the caller can inspect AWS and
Kubernetes; :meth:`FaultRun.report` is the table both print.

Every status the operator writes is seen through the emulator's store (a listener, not polling),
so each resource's Recoverable conditions are all counted, however short they last.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upskill_operator.config import AwsSettings, Settings
from upskill_operator.generate import crds
from upskill_operator.models import KINDS
from upskill_operator.models.common import API_GROUP, API_VERSION
from upskill_operator.wiring.runtime import Hooks
from upskill_sandbox.aws import MotoServer, aws_env
from upskill_sandbox.call_ledger import CallLedger
from upskill_sandbox.dataplane import DataPlane
from upskill_sandbox.faults import FaultInjector
from upskill_sandbox.kube import KubeServer
from upskill_sandbox.kube_store import Store
from upskill_sandbox.operator_thread import OperatorThread
from upskill_sandbox.stack import REGION, find_manifests, load_manifests

__all__ = ["FaultRun", "FaultRunOptions", "fault_run"]

API = f"{API_GROUP}/{API_VERSION}"


@dataclass(frozen=True)
class FaultRunOptions:
    rate: float = 0.2
    """Share of AWS attempts failed."""
    seed: int = 7
    kinds: tuple[str, ...] = FaultInjector.KINDS
    max_attempts: int = 2
    """botocore attempts per call. 2 lets 4 % of calls (0.2 squared) fail through to the operator."""
    requeue_seconds: float = 0.5
    pending_describes: int = 2
    calls_per_second: Mapping[str, float] | None = field(default_factory=dict)
    """Client-side rate limits; None keeps the operator's defaults, empty has none."""
    timeout: float = 300.0
    namespace: str | None = None
    """Apply the stack into this namespace instead of the manifests' own. moto keeps one account per
    process, so a second run in one process needs a namespace of its own (its AWS names differ)."""
    manifests: Path | None = None
    workdir: Path | None = None


@dataclass
class FaultRun:
    options: FaultRunOptions
    aws: MotoServer
    kube: KubeServer
    settings: Settings
    ledger: CallLedger
    docs: list[dict[str, Any]]
    seconds_to_ready: float | None = None
    not_ready: list[str] = field(default_factory=list)
    recoverable: dict[str, Counter[str]] = field(default_factory=dict)
    """Resource -> reasons of the Recoverable=True conditions written for it."""

    def report(self) -> str:
        head = ["resource", "passes", "Recoverable", "calls", "attempts", "retries", "faults", "exhausted", "max/call"]
        rows: list[list[Any]] = [head]
        for name, row in [*sorted(self.ledger.resources.items()), ("total", self.ledger.totals())]:
            counts = self.recoverable.values() if name == "total" else [self.recoverable.get(name, Counter())]
            rows.append([name, len(row.passes), sum(sum(c.values()) for c in counts), row.logical, row.attempts])
            rows[-1] += [row.retries, row.faults, row.exhausted, row.most_attempts]
        total = self.ledger.totals()
        widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
        lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
        lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
        injected = ", ".join(f"{k} {v}" for k, v in sorted(self.ledger.injected().items()))
        ready = f"{self.seconds_to_ready:.1f} s" if self.seconds_to_ready is not None else "not reached"
        lines += [
            f"injected faults by kind: {injected or 'none'}",
            f"AWS calls {total.logical}, attempts {total.attempts}, retries {total.retries} "
            f"(rate {self.options.rate:.0%}, max_attempts {self.options.max_attempts})",
            f"time to all Ready: {ready}",
        ]
        return "\n".join(lines)


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _recoverable(obj: Mapping[str, Any] | None) -> dict[str, Any] | None:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond["type"] == "Recoverable" and cond["status"] == "True":
            return dict(cond)
    return None


class _RecoverableWatch:
    """A store listener noting each Recoverable=True condition a status write brings (not its repeats)."""

    def __init__(self, store: Store, into: dict[str, Counter[str]]) -> None:
        self.store, self.into = store, into
        self.seen_rv = store.resource_version

    def __call__(self) -> None:
        events = self.store.events_after(self.seen_rv)
        if events:
            self.seen_rv = events[-1].rv
        for event in events:
            if event.resource[0] != API_GROUP or event.type == "DELETED":
                continue
            now = _recoverable(event.obj)
            if now is not None and now != _recoverable(event.old):
                meta = event.obj["metadata"]
                resource = f"{event.obj['kind']} {meta['namespace']}/{meta['name']}"
                self.into.setdefault(resource, Counter())[now.get("reason", "")] += 1


def _pending(kube: KubeServer, docs: list[dict[str, Any]], plurals: Mapping[str, str]) -> list[str]:
    out = []
    for doc in docs:
        meta = doc["metadata"]
        obj = kube.get(API, plurals[doc["kind"]], meta["namespace"], meta["name"]) or {}
        ready = [c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == "Ready"]
        generation = (obj.get("metadata") or {}).get("generation")
        if not ready or ready[0]["status"] != "True" or ready[0].get("observedGeneration") != generation:
            out.append(f"{doc['kind']} {meta['namespace']}/{meta['name']}: {ready[0] if ready else 'no status'}")
    return out


def _settings(options: FaultRunOptions, aws: MotoServer, kubeconfig: Path, plane: DataPlane) -> Settings:
    limits = {} if options.calls_per_second is None else {"calls_per_second": dict(options.calls_per_second)}
    return Settings(
        aws=AwsSettings(endpoint_url=aws.url, region=REGION, max_attempts=options.max_attempts, **limits),
        kubeconfig=str(kubeconfig),
        metrics_port=0,
        resync_seconds=600,
        kind_resync_seconds={},
        requeue_seconds=options.requeue_seconds,
        **plane.settings_overrides(),
    )


@contextmanager
def fault_run(options: FaultRunOptions) -> Iterator[FaultRun]:
    """Apply the example stack under faults; yield the run once all is Ready or the timeout passed."""
    plurals = {k.kind: k.plural for k in KINDS}
    docs = [d for d in load_manifests(find_manifests(options.manifests)) if d["kind"] in plurals]
    if options.namespace:
        docs = [{**d, "metadata": {**d["metadata"], "namespace": options.namespace}} for d in docs]
    with tempfile.TemporaryDirectory(dir=options.workdir) as tmp:
        workdir = Path(tmp)
        with (
            MotoServer(pending_describes=options.pending_describes) as aws,
            KubeServer() as kube,
            DataPlane(workdir) as plane,
            _environment(aws_env(aws.url, REGION)),
        ):
            aws.seed(REGION)
            for text in crds.render_all().values():
                kube.apply_yaml(text)
            for namespace in sorted({d["metadata"]["namespace"] for d in docs}):
                kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
            settings = _settings(options, aws, kube.write_kubeconfig(workdir / "kubeconfig"), plane)
            injector = FaultInjector(options.rate, seed=options.seed, kinds=options.kinds)
            ledger = CallLedger(injector, options.max_attempts)
            run = FaultRun(options, aws, kube, settings, ledger, docs)
            watch = _RecoverableWatch(kube.emulator.cluster.store, run.recoverable)
            kube.emulator.cluster.store.listeners.append(watch)
            hooks = Hooks()
            try:
                with ledger.installed(hooks), OperatorThread(settings, hooks):
                    started = time.monotonic()
                    for doc in docs:
                        kube.apply_manifest(doc)
                    deadline = started + options.timeout
                    while (pending := _pending(kube, docs, plurals)) and time.monotonic() < deadline:
                        time.sleep(0.1)
                    run.not_ready = pending
                    run.seconds_to_ready = None if pending else time.monotonic() - started
                yield run
            finally:
                kube.emulator.cluster.store.listeners.remove(watch)
