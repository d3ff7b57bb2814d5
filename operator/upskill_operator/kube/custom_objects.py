"""Other custom resources: an UpskillSecret reads its UpskillDatabase's status and asks it for proxy
access (an annotation); an UpskillDatabase lists the UpskillSecrets that name it; the sweeper nudges
stuck objects (an annotation)."""

from __future__ import annotations

from collections.abc import Mapping
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

    def list(self, group: str, version: str, namespace: str, plural: str) -> list[dict[str, Any]]:
        """Every object of a kind in one namespace, read fresh (not from the watch cache)."""
        try:
            found = self._kube.custom.list_namespaced_custom_object(group, version, namespace, plural)
        except ApiException as exc:
            if exc.status == 404:
                return []
            raise_api_error(exc, f"listing {plural}.{group} in {namespace}")
        items = found.get("items") if isinstance(found, dict) else None
        return [dict(item) for item in items or []]

    def annotate(
        self, group: str, version: str, namespace: str, plural: str, name: str, annotations: Mapping[str, str | None]
    ) -> bool:
        """Merge-patch annotations (None removes one); False when the object is gone."""
        body = {"metadata": {"annotations": dict(annotations)}}
        try:
            self._kube.custom.patch_namespaced_custom_object(group, version, namespace, plural, name, body)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise_api_error(exc, f"annotating {plural}.{group} {namespace}/{name}")
        return True
