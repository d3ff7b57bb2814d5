"""End to end on a real Kubernetes API server (kind), when Docker is present.

It proves what the emulator cannot: that a real API server accepts our generated CRDs and the whole
example stack exactly as a person applies them (``kubectl apply -f``, which reads YAML 1.1: a bare
``N`` would be ``false``; whole-number ACUs would meet ``multipleOf``), enforces their schema and CEL
rules, and that the operator, running as its own ServiceAccount with the shipped RBAC (a token of
``upskill-operator``, not the admin's credentials), brings every resource of the stack to Ready,
databases included (moto for AWS, the sandbox's PostgreSQL behind the emulated clusters).

Skipped cleanly on machines without a working Docker engine or without the ``kind`` binary
(KIND_BIN overrides its path) or kubectl.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from upskill_operator.config import AwsSettings, Settings
from upskill_operator.generate import kubectl_yaml
from upskill_operator.models import KINDS
from upskill_sandbox.aws import MotoServer, aws_env
from upskill_sandbox.display import not_ready
from upskill_sandbox.operator_thread import OperatorThread
from upskill_sandbox.postgres import postgres
from upskill_sandbox.rds_backer import ClusterBacker
from upskill_sandbox.stack import PENDING_DESCRIBES

from e2e.conftest import wait_for

pytestmark = pytest.mark.kind
ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "manifests/examples/upskill-stack"
REGION = "us-east-1"
OPERATOR_NAMESPACE, SERVICE_ACCOUNT = "upskill-system", "upskill-operator"


def _docker_works() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=20).returncode == 0


KIND = os.environ.get("KIND_BIN") or shutil.which("kind")
KUBECTL = shutil.which("kubectl")
if not KIND or not KUBECTL or not _docker_works():
    pytest.skip("needs a working Docker engine, the kind binary (set KIND_BIN) and kubectl", allow_module_level=True)


def kubectl(
    kubeconfig: Path, *args: str, stdin: str | None = None, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run kubectl against the kind cluster; with ``ok`` a failure fails the test with kubectl's own words."""
    assert KUBECTL is not None
    command = [KUBECTL, "--kubeconfig", str(kubeconfig), *args]
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False, timeout=180)
    if ok:
        assert result.returncode == 0, f"kubectl {' '.join(args)}:\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    name = f"upskill-{uuid.uuid4().hex[:6]}"
    path = tmp_path_factory.mktemp("kind") / "kubeconfig"
    subprocess.run([KIND, "create", "cluster", "--name", name, "--kubeconfig", str(path), "--wait", "120s"], check=True)
    try:
        yield path
    finally:
        subprocess.run([KIND, "delete", "cluster", "--name", name], check=False)


def _service_account_kubeconfig(admin: Path, target: Path) -> Path:
    """A kubeconfig that authenticates as the operator's ServiceAccount (a bound token), not as the admin."""
    token = kubectl(admin, "create", "token", SERVICE_ACCOUNT, "-n", OPERATOR_NAMESPACE, "--duration=2h").stdout
    cluster = kubectl_yaml.load(admin.read_text(encoding="utf-8"))["clusters"][0]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": SERVICE_ACCOUNT, "user": {"token": token.strip()}}],
        "contexts": [{"name": SERVICE_ACCOUNT, "context": {"cluster": cluster["name"], "user": SERVICE_ACCOUNT}}],
        "current-context": SERVICE_ACCOUNT,
    }
    target.write_text(yaml.safe_dump(config), encoding="utf-8")
    return target


def _stack(kubeconfig: Path) -> list[dict[str, Any]]:
    """Every resource of the example stack, as the API server holds it now."""
    plurals = ",".join(f"{kind.plural}.upskill.io" for kind in KINDS)
    items: list[dict[str, Any]] = json.loads(kubectl(kubeconfig, "get", plurals, "-n", "upskill", "-o", "json").stdout)[
        "items"
    ]
    return items


def _refusal(kubeconfig: Path, doc: dict[str, Any]) -> str:
    result = kubectl(kubeconfig, "apply", "--dry-run=server", "-f", "-", stdin=json.dumps(doc), ok=False)
    assert result.returncode != 0, f"a real API server accepted {doc['metadata']['name']}"
    return result.stderr


def test_kubectl_applied_stack_is_reconciled_by_the_operators_service_account(kubeconfig: Path) -> None:
    kubectl(kubeconfig, "apply", "-f", str(ROOT / "crds"))
    kubectl(kubeconfig, "wait", "--for=condition=established", "crd", "--all", "--timeout=60s")
    for name in ("namespace.yaml", "serviceaccount.yaml", "rbac.yaml"):
        kubectl(kubeconfig, "apply", "-f", str(ROOT / "manifests/base" / name))
    kubectl(kubeconfig, "create", "namespace", "upskill")

    # What the emulator checks, checked by the real server (dry runs, so nothing is stored).
    table = kubectl_yaml.load((STACK / "notifications.yaml").read_text(encoding="utf-8"))
    table["metadata"]["name"] = "bad-key-type"
    table["spec"]["keys"]["partition"]["type"] = "X"
    assert "spec.keys.partition.type" in _refusal(kubeconfig, table)
    database = kubectl_yaml.load((STACK / "auth-db.yaml").read_text(encoding="utf-8"))
    database["metadata"]["name"] = "third-acu"
    database["spec"]["capacity"]["serverless"] = {"minACU": 0.3, "maxACU": 4}
    assert "must be a multiple of 0.5" in _refusal(kubeconfig, database)

    # The whole stack, as a person applies it: whole-number ACUs and N-typed keys must be accepted.
    kubectl(kubeconfig, "apply", "-f", str(STACK))
    applied = _stack(kubeconfig)
    assert len(applied) == 9
    keys = next(o for o in applied if o["metadata"]["name"] == "activity-stream")["spec"]["keys"]
    assert keys["sort"]["type"] == "N"

    with (
        tempfile.TemporaryDirectory() as workdir,
        MotoServer(pending_describes=PENDING_DESCRIBES) as aws,
        postgres(Path(workdir)) as pg_url,
        ClusterBacker(pg_url) as backer,
        pytest.MonkeyPatch.context() as env,
    ):
        for key, value in aws_env(aws.url, REGION).items():
            env.setenv(key, value)
        aws.seed(REGION)
        settings = Settings(
            aws=AwsSettings(endpoint_url=aws.url, region=REGION),
            kubeconfig=str(_service_account_kubeconfig(kubeconfig, Path(workdir) / "operator-kubeconfig")),
            metrics_port=0,
            requeue_seconds=1,
            endpoint_map=backer.endpoint_map(),
        )
        with OperatorThread(settings):
            pending: list[str] = []

            def all_ready() -> bool:
                pending[:] = not_ready(_stack(kubeconfig))
                return not pending

            try:
                wait_for(all_ready, 600, "every resource of the stack Ready on a real API server")
            except AssertionError as exc:
                raise AssertionError(f"{exc}; not Ready: {pending}") from exc
            patch = json.dumps({"spec": {"keys": {"partition": {"name": "id", "type": "S"}}}})
            immutable = kubectl(
                kubeconfig, "patch", "utable", "notifications", "-n", "upskill", "--type=merge", "-p", patch, ok=False
            )
            assert immutable.returncode != 0
            assert "immutable after creation" in immutable.stderr
