"""The load bench's bed: emulators here, the operator in its own process, and what it reports.

Like bench/common.py's bed (the operator as a subprocess, so its RSS is its own), with what a fleet
needs: the VPC seeded for databases, one resync interval per kind, the rate limits on or off, RSS
sampled for the peak and the current value, and the operator's Prometheus metrics parsed whole:
AWS attempts by service and operation (``upskill_aws_api_attempts_total``, counted in the same
botocore ``before-send`` hook that feeds the attempt observers, so every HTTP attempt, retries
included), passes by kind and result, and the reconcile-duration histogram by kind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from prometheus_client.parser import text_string_to_metric_families

from upskill_operator.generate import crds
from upskill_sandbox.aws import MotoServer, aws_env
from upskill_sandbox.kube import KubeServer

from common import REGION, free_port, wait

__all__ = ["LoadBed", "Scrape", "load_bed", "quantile"]

Buckets = dict[str, dict[float, float]]  # kind -> upper bound -> cumulative count


@dataclass
class Scrape:
    """One reading of the operator's /metrics; subtract two to get a phase."""

    attempts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (service, operation)
    passes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, result)
    buckets: Buckets = field(default_factory=dict)

    def __sub__(self, other: Scrape) -> Scrape:
        buckets = {
            kind: {le: count - other.buckets.get(kind, {}).get(le, 0.0) for le, count in by_le.items()}
            for kind, by_le in self.buckets.items()
        }
        return Scrape(self.attempts - other.attempts, self.passes - other.passes, buckets)

    def calls(self, services: tuple[str, ...] | None = None, *, writes: bool = False) -> int:
        return sum(
            n
            for (service, operation), n in self.attempts.items()
            if (services is None or service in services) and (not writes or is_write(operation))
        )


def is_write(operation: str) -> bool:
    return not operation.startswith(("Describe", "List", "Get"))


def quantile(q: float, by_le: Mapping[float, float]) -> float:
    """Prometheus's histogram_quantile: linear within the bucket; +Inf when beyond the last bound."""
    bounds = sorted(by_le)
    total = by_le.get(float("inf"), 0.0)
    if total <= 0:
        return float("nan")
    rank, lower, below = q * total, 0.0, 0.0
    for bound in bounds:
        count = by_le[bound]
        if count >= rank:
            if bound == float("inf"):
                return bound
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-9)
        lower, below = bound, count
    return float("inf")


@dataclass
class LoadBed:
    """The emulators and the operator process; :meth:`restart` replaces the process with new resyncs."""

    aws: MotoServer
    kube: KubeServer
    env: dict[str, str]
    command: list[str]
    metrics_url: str
    process: subprocess.Popen[bytes] | None = None
    peak_rss: int = 0
    rss: int = 0

    def start(self, resync: Mapping[str, float]) -> None:
        env = {
            **self.env,
            "UPSKILL_RESYNC_SECONDS": str(resync["default"]),
            "UPSKILL_KIND_RESYNC_SECONDS": json.dumps({k: v for k, v in resync.items() if k != "default"}),
        }
        self.process = subprocess.Popen(self.command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.peak_rss = self.rss = 0
        wait(lambda: _up(self), 60, "operator metrics endpoint")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def restart(self, resync: Mapping[str, float]) -> None:
        self.stop()
        self.start(resync)

    def sample(self) -> None:
        """Record the process's RSS (called every 0.2 s by the bed)."""
        try:
            self.rss = psutil.Process(self.process.pid).memory_info().rss if self.process else 0
        except psutil.Error:
            return
        self.peak_rss = max(self.peak_rss, self.rss)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the operator process has used so far."""
        times = psutil.Process(self.process.pid if self.process else 0).cpu_times()
        return float(times.user + times.system)

    def scrape(self) -> Scrape:
        text = urllib.request.urlopen(self.metrics_url, timeout=10).read().decode()
        out = Scrape()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = sample.labels
                if sample.name == "upskill_aws_api_attempts_total":
                    out.attempts[(labels["service"], labels["operation"])] = int(sample.value)
                elif sample.name == "upskill_reconcile_total":
                    out.passes[(labels["kind"], labels["result"])] = int(sample.value)
                elif sample.name == "upskill_reconcile_duration_seconds_bucket":
                    out.buckets.setdefault(labels["kind"], {})[float(labels["le"])] = sample.value
        return out


def _up(state: LoadBed) -> bool:
    try:
        state.scrape()
        return True
    except OSError:
        return False


@contextmanager
def load_bed(namespace: str, *, requeue: float, rate_limits: bool, workers: int) -> Iterator[LoadBed]:
    """Emulators here (RDS without transitional states: the operator is measured, not AWS's waits).

    The operator is started by :meth:`LoadBed.start`. moto refuses a 101st RDS proxy
    (``MOTO_RDS_PROXY_LIMIT``, read on each create); AWS's defaults are 20 proxies, 40 clusters and
    40 instances per region: a fleet this size runs on raised quotas.
    """
    os.environ["MOTO_RDS_PROXY_LIMIT"] = "100000"
    with MotoServer() as aws, KubeServer() as kube, tempfile.TemporaryDirectory() as tmp:
        aws.reset()  # moto's state is process-global: every run starts from an empty account
        aws.seed(REGION)
        for text in crds.render_all().values():
            kube.apply_yaml(text)
        kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        port, liveness = free_port(), f"http://127.0.0.1:{free_port()}/healthz"
        env = {
            **os.environ,
            **aws_env(aws.url, REGION),
            "KUBECONFIG": str(kube.write_kubeconfig(Path(tmp) / "kubeconfig")),
            "UPSKILL_METRICS_PORT": str(port),
            "UPSKILL_REQUEUE_SECONDS": str(requeue),
            "UPSKILL_WORKERS": str(workers),
        }
        if rate_limits:  # the container's own entry point
            command = [str(Path(sys.executable).with_name("upskill-operator")), "run", "--liveness", liveness]
        else:
            env["BENCH_CALLS_PER_SECOND"] = "{}"
            command = [sys.executable, str(Path(__file__).with_name("load_operator.py")), liveness]
        state = LoadBed(aws, kube, env, command, f"http://127.0.0.1:{port}/metrics")
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                state.sample()
                stop.wait(0.2)

        threading.Thread(target=sample, daemon=True).start()
        try:
            yield state
        finally:
            stop.set()
            state.stop()
