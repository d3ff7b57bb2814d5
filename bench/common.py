"""Shared bench plumbing: emulators in this process, the operator as a real subprocess.

Running the operator as `upskill-operator run` in its own process keeps its RSS
honest (the emulators live here, not there) and exercises the same entry point
the container uses. AWS calls are read from the operator's own
``upskill_aws_api_attempts_total`` counter, which counts every HTTP attempt at
the botocore layer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from upskill_operator.aws.session import RateLimiter
from upskill_operator.config import AwsSettings
from upskill_operator.generate import crds
from upskill_sandbox.aws import MotoServer, aws_env
from upskill_sandbox.kube import KubeServer

REGION = "us-east-1"
API = "upskill.io/v1alpha1"
RESULTS = Path(os.environ.get("UPSKILL_BENCH_RESULTS", Path(__file__).parents[1] / ".bench" / "figures.json"))
"""Where each script records its figures; ``bench/summary.py`` reads them back against the targets."""
_SAMPLE = re.compile(r'^upskill_aws_api_attempts_total\{operation="([^"]+)",service="([^"]+)"\} ([0-9.e+]+)$')


@dataclass
class Bed:
    aws: MotoServer
    kube: KubeServer
    metrics_url: str
    process: subprocess.Popen[bytes]
    peak_rss: int = 0
    stopped: bool = False

    def stop_operator(self) -> None:
        """Stop the operator (idempotent): every baseline runs on an idle bed."""
        if not self.stopped:
            self.stopped = True
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:  # kopf's graceful exit can outlast 30 s with 1,000 timers
                self.process.kill()
                self.process.wait(30)

    def rss(self) -> int:
        return int(psutil.Process(self.process.pid).memory_info().rss)

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def kube_writes(self, plural: str) -> int:
        """Writes (PUT, PATCH, DELETE) the operator sent to objects of ``plural``, status included.

        A POST to the collection is the benchmark's own create (the operator never creates its custom objects),
        so it is not counted: the figure is the operator's writes alone.
        """
        pattern, create = re.compile(rf"/{plural}(/|$)"), re.compile(rf"/{plural}/?$")
        return sum(
            1
            for m, p in self.kube.requests.snapshot()
            if m in ("POST", "PUT", "PATCH", "DELETE") and pattern.search(p) and not (m == "POST" and create.search(p))
        )

    def attempts(self) -> Counter[tuple[str, str]]:
        text = urllib.request.urlopen(self.metrics_url, timeout=5).read().decode()
        out: Counter[tuple[str, str]] = Counter()
        for line in text.splitlines():
            match = _SAMPLE.match(line)
            if match:
                out[(match.group(2), match.group(1))] = int(float(match.group(3)))
        return out


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def bed(resync_seconds: float, namespace: str) -> Iterator[Bed]:
    """Emulators here, the operator in a subprocess, RSS sampled every 0.2 s."""
    with MotoServer() as aws, KubeServer() as kube, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(aws_env(aws.url, REGION))  # for the direct-boto3 baseline in this process
        aws.reset()  # moto's state is process-global: start each run from an empty account
        aws.seed_kms(REGION)
        for text in crds.render_all().values():
            kube.apply_yaml(text)
        kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        port = free_port()
        env = {
            **os.environ,
            **aws_env(aws.url, REGION),
            "KUBECONFIG": str(kube.write_kubeconfig(Path(tmp) / "kubeconfig")),
            "UPSKILL_METRICS_PORT": str(port),
            "UPSKILL_RESYNC_SECONDS": str(resync_seconds),
        }  # every other setting (requeue, workers, rate limits) at the operator's default
        cli = Path(sys.executable).with_name("upskill-operator")
        process = subprocess.Popen(
            [str(cli), "run", "--liveness", f"http://127.0.0.1:{free_port()}/healthz"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        state = Bed(aws, kube, f"http://127.0.0.1:{port}/metrics", process)
        spy = _profile(process.pid)
        stop = threading.Event()

        def sample() -> None:
            proc = psutil.Process(process.pid)
            while not stop.is_set():
                try:
                    state.peak_rss = max(state.peak_rss, proc.memory_info().rss)
                except psutil.Error:
                    return
                stop.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            wait(lambda: _up(state), 60, "operator metrics endpoint")
            yield state
        finally:
            stop.set()
            state.stop_operator()
            if spy is not None:
                spy.wait(60)  # py-spy writes its profile once the operator exits


def _profile(pid: int) -> subprocess.Popen[bytes] | None:
    """With UPSKILL_BENCH_PROFILE=PATH, sample the operator with py-spy (``pip install py-spy``) into PATH.

    The output is py-spy's raw (collapsed stacks) format, one file per bed: PATH gets the pid appended.
    """
    target = os.environ.get("UPSKILL_BENCH_PROFILE")
    if not target:
        return None
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        raise SystemExit(f"UPSKILL_BENCH_PROFILE needs py-spy beside {sys.executable}: {spy.parent}/pip install py-spy")
    args = [
        str(spy),
        "record",
        "--nonblocking",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--rate",
        "25",
        "-o",
        f"{target}.{pid}",
    ]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _up(state: Bed) -> bool:
    try:
        state.attempts()
        return True
    except OSError:
        return False


def wait(check: Callable[[], Any], timeout: float, what: str, every: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


def ready_count(kube: KubeServer, plural: str, namespace: str) -> int:
    def is_ready(obj: dict[str, Any]) -> bool:
        conds = (obj.get("status") or {}).get("conditions") or []
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)

    return sum(1 for obj in kube.list(API, plural, namespace) if is_ready(obj))


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


LIMITERS = {service: RateLimiter(rate) for service, rate in AwsSettings().calls_per_second.items()}
"""The operator's client-side limits, applied to every baseline too (one bucket per service, as there)."""


def limited(client: Any, service: str) -> Any:
    """``client`` under the operator's own client-side rate limit for ``service``."""
    limiter = LIMITERS.get(service)
    if limiter is not None:
        client.meta.events.register("before-send", lambda **_: limiter.acquire())
    return client


def load() -> str:
    """The machine's 1/5/15-minute load average, to print before and after each measurement."""
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def ratios(operator: float, baseline: float) -> tuple[str, str]:
    """The ratio both ways: operator / baseline (lower is better) and baseline / operator."""
    return f"{operator / baseline:.2f}x", f"{baseline / operator:.2f}x"


def record(section: str, figures: dict[str, float]) -> None:
    """Merge ``figures`` under ``section`` into :data:`RESULTS` (read back by ``bench/summary.py``)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.setdefault(section, {}).update(figures)
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
