"""One end-to-end test on a real Kubernetes API server (kind), when Docker is present.

It proves what the emulator cannot: that a real API server accepts our generated
CRDs, enforces their schema and CEL rules, and that the operator reconciles a
table against it. Skipped cleanly on machines without a working Docker engine
or without the `kind` binary (KIND_BIN overrides its path).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest
import yaml

from upskill_operator import crds
from upskill_operator.config import AwsSettings, Settings
from upskill_operator.kube.client import load_configuration
from upskill_operator.sandbox.aws import MotoServer, aws_env
from upskill_operator.sandbox.operator_thread import OperatorThread

from e2e.conftest import wait_for

pytestmark = pytest.mark.kind
REGION = "us-east-1"


def _docker_works() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=20).returncode == 0


KIND = os.environ.get("KIND_BIN") or shutil.which("kind")
if not KIND or not _docker_works():
    pytest.skip("needs a working Docker engine and the kind binary (set KIND_BIN)", allow_module_level=True)


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    name = f"upskill-{uuid.uuid4().hex[:6]}"
    path = tmp_path_factory.mktemp("kind") / "kubeconfig"
    subprocess.run([KIND, "create", "cluster", "--name", name, "--kubeconfig", str(path), "--wait", "120s"], check=True)
    try:
        yield path
    finally:
        subprocess.run([KIND, "delete", "cluster", "--name", name], check=False)


def _custom(kubeconfig: Path) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(kubernetes.client.ApiClient(load_configuration(str(kubeconfig))))


def _table(name: str, **spec: object) -> dict[str, object]:
    body = {"keys": {"partition": {"name": "pk", "type": "S"}}, "deletionProtection": False, "deletionPolicy": "Delete"}
    body.update(spec)
    return {"apiVersion": "upskill.io/v1alpha1", "kind": "UpskillTable", "metadata": {"name": name}, "spec": body}


def test_real_api_server_enforces_crds_and_the_operator_reconciles(kubeconfig: Path) -> None:
    api = kubernetes.client.ApiClient(load_configuration(str(kubeconfig)))
    extensions = kubernetes.client.ApiextensionsV1Api(api)
    for text in crds.render_all().values():
        extensions.create_custom_resource_definition(yaml.safe_load(text))
    subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            str(kubeconfig),
            "wait",
            "--for=condition=established",
            "crd",
            "--all",
            "--timeout=60s",
        ],
        check=True,
    )
    custom = _custom(kubeconfig)

    with pytest.raises(kubernetes.client.ApiException, match=r"spec\.keys\.partition\.type"):
        custom.create_namespaced_custom_object(
            "upskill.io",
            "v1alpha1",
            "default",
            "upskilltables",
            _table("bad", keys={"partition": {"name": "pk", "type": "X"}}),
        )

    with MotoServer() as aws, pytest.MonkeyPatch.context() as env:
        for key, value in aws_env(aws.url, REGION).items():
            env.setenv(key, value)
        aws.seed_kms(REGION)
        settings = Settings(
            aws=AwsSettings(endpoint_url=aws.url, region=REGION),
            kubeconfig=str(kubeconfig),
            metrics_port=0,
            requeue_seconds=1,
        )
        with OperatorThread(settings):
            custom.create_namespaced_custom_object("upskill.io", "v1alpha1", "default", "upskilltables", _table("kind"))

            def ready() -> bool:
                obj = custom.get_namespaced_custom_object("upskill.io", "v1alpha1", "default", "upskilltables", "kind")
                conds = (obj.get("status") or {}).get("conditions") or []
                return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)

            wait_for(ready, 60, "Ready on a real API server")
            with pytest.raises(kubernetes.client.ApiException, match="immutable after creation"):
                custom.patch_namespaced_custom_object(
                    "upskill.io",
                    "v1alpha1",
                    "default",
                    "upskilltables",
                    "kind",
                    {"spec": {"keys": {"partition": {"name": "id", "type": "S"}}}},
                )
