"""A real kopf operator runs its whole lifecycle against the emulated Kubernetes API."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import kopf
import pytest

from upskill_sandbox.kube import KubeServer

from testbed.kube_support import http, wait_until

GROUP, PLURAL = "test.upskill.io", "kopftests"
FINALIZER = "test.upskill.io/finalizer"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"{PLURAL}.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": PLURAL, "singular": "kopftest", "kind": "KopfTest"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "properties": {"size": {"type": "integer", "default": 1}}},
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
            }
        ],
    },
}


def registry_for(url: str, calls: dict[str, list[Any]]) -> kopf.OperatorRegistry:
    """Handlers that record their calls; settings are applied at startup, not at import."""
    registry = kopf.OperatorRegistry()

    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.persistence.finalizer = FINALIZER
        settings.peering.standalone = True
        settings.watching.reconnect_backoff = 0.05

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kopf.ConnectionInfo(server=url)

    @kopf.on.create(GROUP, "v1", PLURAL, registry=registry)
    def created(body: kopf.Body, spec: dict[str, Any], patch: kopf.Patch, **_: Any) -> None:
        calls["create"].append((time.monotonic(), dict(spec)))
        patch.status["phase"] = "Created"
        kopf.info(body, reason="Created", message="posted as a Kubernetes Event with generateName")

    @kopf.on.update(GROUP, "v1", PLURAL, registry=registry)
    def updated(diff: kopf.Diff, patch: kopf.Patch, **_: Any) -> None:
        calls["update"].append(list(diff))
        patch.status["phase"] = "Updated"

    @kopf.timer(GROUP, "v1", PLURAL, interval=0.1, registry=registry)
    def ticked(**_: Any) -> None:
        calls["timer"].append(time.monotonic())

    @kopf.on.delete(GROUP, "v1", PLURAL, registry=registry)
    def deleted(name: str, **_: Any) -> None:
        calls["delete"].append(name)

    return registry


@pytest.fixture
def kube() -> Iterator[KubeServer]:
    with KubeServer() as server:
        server.apply_manifest(CRD)
        yield server


@pytest.fixture
def operator_calls(kube: KubeServer) -> Iterator[dict[str, list[Any]]]:
    """Run kopf in its own thread and event loop; stop it cleanly with a stop flag."""
    calls: dict[str, list[Any]] = {"create": [], "update": [], "timer": [], "delete": []}
    stop_flag, ready_flag = threading.Event(), threading.Event()
    registry = registry_for(kube.url, calls)

    def run() -> None:
        asyncio.run(
            kopf.operator(
                registry=registry, clusterwide=True, standalone=True, stop_flag=stop_flag, ready_flag=ready_flag
            )
        )

    thread = threading.Thread(target=run, name="kopf-under-test", daemon=True)
    thread.start()
    assert ready_flag.wait(10), "kopf did not start"
    yield calls
    stop_flag.set()
    thread.join(10)
    assert not thread.is_alive(), "kopf did not stop"


def test_kopf_lifecycle(kube: KubeServer, operator_calls: dict[str, list[Any]]) -> None:
    def current() -> dict[str, Any] | None:
        return kube.get(f"{GROUP}/v1", PLURAL, "default", "k1")

    posted = time.monotonic()
    kube.apply_manifest(
        {
            "apiVersion": f"{GROUP}/v1",
            "kind": "KopfTest",
            "metadata": {"name": "k1", "namespace": "default"},
            "spec": {},
        }
    )
    wait_until(lambda: operator_calls["create"])
    assert operator_calls["create"][0][1] == {"size": 1}  # the schema default is visible to the handler
    assert operator_calls["create"][0][0] - posted < 2
    wait_until(lambda: (current() or {}).get("status", {}).get("phase") == "Created")
    assert FINALIZER in current()["metadata"]["finalizers"]  # type: ignore[index]

    assert kube.drop_watches() >= 1  # kopf must reconnect and resume without losing the update
    kube.apply_manifest(
        {
            "apiVersion": f"{GROUP}/v1",
            "kind": "KopfTest",
            "metadata": {"name": "k1", "namespace": "default"},
            "spec": {"size": 3},
        }
    )
    wait_until(lambda: operator_calls["update"])
    assert operator_calls["update"][0] == [("change", ("spec", "size"), 1, 3)]
    wait_until(lambda: (current() or {}).get("status", {}).get("phase") == "Updated")
    wait_until(lambda: len(operator_calls["timer"]) >= 2)
    assert current()["metadata"]["generation"] == 2  # type: ignore[index]

    def posted_events() -> list[dict[str, Any]]:
        return [e for e in kube.list("v1", "events", "default") if e["involvedObject"].get("name") == "k1"]

    assert all(e["metadata"]["name"].startswith("kopf-event-") for e in wait_until(posted_events))

    assert http(kube, "DELETE", f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}/k1")[0] == 200
    wait_until(lambda: operator_calls["delete"] == ["k1"])
    wait_until(lambda: current() is None)
