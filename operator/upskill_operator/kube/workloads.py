"""Rolling restarts of Deployments, StatefulSets and DaemonSets through a pod-template annotation.

Changing an annotation of ``spec.template`` is what ``kubectl rollout restart`` does: the
workload controller rolls the pods, respecting the workload's own rollout strategy. Each
UpskillSecret uses its own annotation key, so several secrets can roll the same workload
without overwriting each other's marks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from kubernetes.client.exceptions import ApiException

from upskill_operator.kube.client import Kube, raise_api_error

__all__ = ["WorkloadKind", "Workloads"]

WorkloadKind = Literal["Deployment", "StatefulSet", "DaemonSet"]
_MERGE = "application/merge-patch+json"


class Workloads:
    def __init__(self, kube: Kube) -> None:
        self._kube = kube

    def _read(self, kind: WorkloadKind) -> Callable[..., Any]:
        apps = self._kube.apps
        return {
            "Deployment": apps.read_namespaced_deployment,
            "StatefulSet": apps.read_namespaced_stateful_set,
            "DaemonSet": apps.read_namespaced_daemon_set,
        }[kind]

    def _patch(self, kind: WorkloadKind) -> Callable[..., Any]:
        apps = self._kube.apps
        return {
            "Deployment": apps.patch_namespaced_deployment,
            "StatefulSet": apps.patch_namespaced_stateful_set,
            "DaemonSet": apps.patch_namespaced_daemon_set,
        }[kind]

    def template_annotations(self, kind: WorkloadKind, namespace: str, name: str) -> dict[str, str] | None:
        """The pod template's annotations, or None when the workload does not exist."""
        try:
            found = self._read(kind)(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise_api_error(exc, f"reading {kind} {namespace}/{name}")
        template = found.spec.template if found.spec is not None else None
        meta = template.metadata if template is not None else None
        return dict((meta.annotations if meta is not None else None) or {})

    def set_template_annotation(self, kind: WorkloadKind, namespace: str, name: str, key: str, value: str) -> None:
        """Set one pod-template annotation (a rollout when its value changes)."""
        body = {"spec": {"template": {"metadata": {"annotations": {key: value}}}}}
        try:
            self._patch(kind)(name, namespace, body, _content_type=_MERGE)
        except ApiException as exc:
            if exc.status == 404:
                return  # deleted meanwhile: nothing left to restart
            raise_api_error(exc, f"patching {kind} {namespace}/{name}")
