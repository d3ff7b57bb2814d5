"""The example stack Ready on the sandbox's emulators and data plane, for the connect tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from upskill_operator.config import AwsSettings, Settings
from upskill_sandbox.dataplane import DataPlane
from upskill_sandbox.kube import KubeServer
from upskill_sandbox.operator_thread import OperatorThread
from upskill_sandbox.stack import add_sandbox_extension, find_manifests, load_manifests, sandbox_extension

from e2e.clients_support import configmap_data, secret_data, wait_stack_ready
from e2e.conftest import REGION, emulators

NAMESPACE = "upskill"
TABLE_CONFIGMAPS = ("notifications-table", "activity-stream-table", "analytics-events-table")


@dataclass
class Stack:
    kube: KubeServer
    kubeconfig: Path
    docs: list[dict[str, Any]]
    aws_url: str
    plane: DataPlane

    def delivered(self) -> dict[str, str]:
        """What envFrom of web-env, worker-env and the table ConfigMaps gives a pod."""
        merged = {**secret_data(self.kube, NAMESPACE, "web-env"), **secret_data(self.kube, NAMESPACE, "worker-env")}
        for name in TABLE_CONFIGMAPS:
            merged.update(configmap_data(self.kube, NAMESPACE, name))
        return merged


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack with the operator running (rotations happen), its kubeconfig carrying the sandbox extension."""
    yield from _stack(tmp_path_factory, keep_operator=True)


@pytest.fixture(scope="module")
def still_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack brought to Ready, then the operator stopped: what the tests write stays written."""
    yield from _stack(tmp_path_factory, keep_operator=False)


def _stack(tmp_path_factory: pytest.TempPathFactory, keep_operator: bool) -> Iterator[Stack]:
    workdir: Path = tmp_path_factory.mktemp("connect")
    docs = load_manifests(find_manifests(None))
    with emulators(REGION) as (aws, kube), DataPlane(workdir) as plane:
        for namespace in sorted({d["metadata"].get("namespace", "default") for d in docs}):
            kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        kubeconfig = kube.write_kubeconfig(workdir / "kubeconfig")
        settings = Settings(
            aws=AwsSettings(endpoint_url=aws.url, region=REGION, max_attempts=2),
            kubeconfig=str(kubeconfig),
            metrics_port=0,
            resync_seconds=3,
            requeue_seconds=0.5,
            **plane.settings_overrides(),
        )
        operator = OperatorThread(settings).start()
        try:
            for doc in docs:
                kube.apply_manifest(doc)
            wait_stack_ready(kube, docs, NAMESPACE)
            add_sandbox_extension(kubeconfig, sandbox_extension(aws.url, plane))
            if not keep_operator:
                operator.stop()
            yield Stack(kube, kubeconfig, docs, aws.url, plane)
        finally:
            operator.stop()
