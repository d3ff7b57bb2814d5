"""Read a custom resource and merge-patch its status from outside a kopf handler (the probe daemons).

kopf applies a daemon's ``patch`` only when the daemon returns, so a long-running probe writes
its status itself. The write carries the resourceVersion it read: if a reconcile pass changed
the object in between, the API answers 409 and the caller re-reads, so the two never overwrite
each other's conditions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from kubernetes.client.exceptions import ApiException

from upskill_operator.kube.client import Kube, raise_api_error
from upskill_operator.models.common import API_GROUP, API_VERSION

__all__ = ["StatusConflictError", "get_custom_object", "list_custom_objects", "patch_status", "update_status"]


class StatusConflictError(Exception):
    """The object changed between the read and the write."""


def get_custom_object(kube: Kube, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        found = kube.custom.get_namespaced_custom_object(API_GROUP, API_VERSION, namespace, plural, name)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise_api_error(exc, f"reading {plural}/{name} in {namespace}")
    return dict(cast(Mapping[str, Any], found))


def patch_status(
    kube: Kube, plural: str, namespace: str, name: str, status: Mapping[str, Any], resource_version: str | None
) -> None:
    """Merge ``status`` into the object's status; with a resourceVersion, only if nothing changed since."""
    body: dict[str, Any] = {"status": dict(status)}
    if resource_version:
        body["metadata"] = {"resourceVersion": resource_version}
    try:
        kube.custom.patch_namespaced_custom_object_status(API_GROUP, API_VERSION, namespace, plural, name, body)
    except ApiException as exc:
        if exc.status == 409:
            raise StatusConflictError(f"{plural}/{name} changed while its status was being written") from None
        if exc.status == 404:
            return  # deleted meanwhile: nothing left to report on
        raise_api_error(exc, f"patching the status of {plural}/{name} in {namespace}")


def update_status(
    kube: Kube,
    plural: str,
    namespace: str,
    name: str,
    change: Callable[[dict[str, Any]], Mapping[str, Any] | None],
    attempts: int = 3,
) -> bool:
    """Read the object, let ``change`` compute a status patch from it (None: nothing to write), write it.

    Retries on a conflicting concurrent write; False when the object is gone or nothing was written.
    """
    for _ in range(attempts):
        obj = get_custom_object(kube, plural, namespace, name)
        if obj is None:
            return False
        patch = change(obj)
        if not patch:
            return False
        try:
            patch_status(kube, plural, namespace, name, patch, obj.get("metadata", {}).get("resourceVersion"))
        except StatusConflictError:
            continue
        return True
    return False


def list_custom_objects(kube: Kube, plural: str, namespace: str) -> list[dict[str, Any]]:
    """Every object of one of our kinds in a namespace."""
    try:
        found = kube.custom.list_namespaced_custom_object(API_GROUP, API_VERSION, namespace, plural)
    except ApiException as exc:
        if exc.status == 404:
            return []  # the CRD is not installed
        raise_api_error(exc, f"listing {plural} in {namespace}")
    items = cast(Mapping[str, Any], found).get("items") or []
    return [dict(item) for item in items]
