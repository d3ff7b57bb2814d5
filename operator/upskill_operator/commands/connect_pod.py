"""The forwarder pod: our own image running ``upskill-operator forward``, one route per proxy endpoint.

Locked down as the operator's Deployment is (non-root, read-only root filesystem, no capabilities, no
service account token, resource limits). ``connect`` deletes it on exit; when ``connect`` dies instead,
``activeDeadlineSeconds`` ends it and the relay process exits with it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

from kubernetes.client.exceptions import ApiException

from upskill_operator.commands.connect_endpoints import Endpoint
from upskill_operator.commands.connect_values import ConnectError, forbidden_reason
from upskill_operator.kube.client import Kube

__all__ = ["FIRST_PORT", "create_pod", "delete_pod", "forwarder_pod", "routes_for", "wait_running"]

FIRST_PORT = 15432
LABELS = {"app.kubernetes.io/name": "upskill-connect", "app.kubernetes.io/managed-by": "upskill-operator-connect"}


def routes_for(endpoints: list[Endpoint]) -> dict[int, Endpoint]:
    """Pod port -> endpoint, from FIRST_PORT up, in endpoint order."""
    return {FIRST_PORT + i: endpoint for i, endpoint in enumerate(endpoints)}


def forwarder_pod(
    namespace: str, image: str, routes: Mapping[int, Endpoint], deadline_seconds: int, name: str | None = None
) -> dict[str, Any]:
    """The Pod manifest: one container relaying each pod port (on the pod's loopback) to its endpoint."""
    args = ["forward"] + [arg for port, e in sorted(routes.items()) for arg in ("--route", f"{port}={e}")]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name or f"upskill-connect-{secrets.token_hex(4)}",
            "namespace": namespace,
            "labels": dict(LABELS),
        },
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": deadline_seconds,
            "terminationGracePeriodSeconds": 2,
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "runAsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "forward",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["upskill-operator"],
                    "args": args,
                    "ports": [{"containerPort": port, "protocol": "TCP"} for port in sorted(routes)],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "runAsNonRoot": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                    "resources": {
                        "requests": {"cpu": "10m", "memory": "48Mi"},
                        "limits": {"cpu": "250m", "memory": "96Mi"},
                    },
                }
            ],
        },
    }


def _refused(exc: ApiException, what: str) -> ConnectError:
    if exc.status in (401, 403):
        return ConnectError(f"{what}: {forbidden_reason(exc)}; see docs/dev.md (the upskill-developer ClusterRole)")
    return ConnectError(f"{what}: the Kubernetes API answered {exc.status} {exc.reason}")


def create_pod(kube: Kube, manifest: dict[str, Any]) -> str:
    namespace, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
    try:
        kube.core.create_namespaced_pod(namespace, cast(Any, manifest))  # the client takes a dict
    except ApiException as exc:
        raise _refused(exc, f"creating the forwarder pod in {namespace}") from None
    return str(name)


def delete_pod(kube: Kube, namespace: str, name: str) -> None:
    try:
        kube.core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
    except ApiException as exc:
        if exc.status != 404:
            raise _refused(exc, f"deleting the forwarder pod {namespace}/{name}") from None


def _state(pod: Any) -> str:
    phase = str(pod.status.phase if pod.status else "Unknown")
    for status in (pod.status.container_statuses or []) if pod.status else []:
        waiting = status.state.waiting if status.state else None
        if waiting is not None:
            return f"{phase} ({waiting.reason}{': ' + waiting.message if waiting.message else ''})"
    return phase


def wait_running(
    kube: Kube, namespace: str, name: str, timeout: float, report: Callable[[str], None], poll: float = 1.0
) -> None:
    """Until the pod is Running; a progress line on each change; ConnectError on failure or timeout."""
    deadline, last = time.monotonic() + timeout, ""
    while True:
        try:
            pod = kube.core.read_namespaced_pod(name, namespace)
        except ApiException as exc:
            raise _refused(exc, f"reading the forwarder pod {namespace}/{name}") from None
        state = _state(pod)
        if state == "Running":
            return
        if state != last:
            report(f"waiting for pod {name}: {state}")
            last = state
        if state.startswith(("Failed", "Succeeded")) or "ErrImagePull" in state or "BackOff" in state:
            raise ConnectError(f"the forwarder pod {name} did not start: {state} (set --image?)")
        if time.monotonic() > deadline:
            raise ConnectError(f"the forwarder pod {name} is not Running after {timeout:g}s: {state}")
        time.sleep(poll)
