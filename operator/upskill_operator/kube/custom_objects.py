"""Reading other custom resources (an UpskillSecret reads its UpskillDatabase's status)."""

from __future__ import annotations

from typing import Any

from kubernetes.client.exceptions import ApiException

from upskill_operator.kube.client import Kube, raise_api_error

__all__ = ["CustomObjects"]


class CustomObjects:
    def __init__(self, kube: Kube) -> None:
        self._kube = kube

    def get(self, group: str, version: str, namespace: str, plural: str, name: str) -> dict[str, Any] | None:
        """The whole object (spec and status), or None when it does not exist."""
        try:
            found = self._kube.custom.get_namespaced_custom_object(group, version, namespace, plural, name)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise_api_error(exc, f"reading {plural}.{group} {namespace}/{name}")
        return dict(found) if isinstance(found, dict) else None
