"""The connection ConfigMap: where apps read a resource's names, ARNs and region.

It is a Kubernetes object, but it goes through the same observe/create/update/
delete protocol as the AWS objects, so ownership and deletion follow one set of
rules. Ownership is an annotation (label values cannot hold ``ns/name``). The ConfigMap is the
operator's: once its data is known, a key it would not write (an earlier key prefix's) is removed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from upskill_operator.kube.client import Kube
from upskill_operator.models.common import API_GROUP, API_VERSION
from upskill_operator.models.tags import owner_of
from upskill_operator.reconcile.protocol import OWNER_TAG, DeletionPolicy, Observation, Target

__all__ = ["ConnectionConfigMapAdapter"]

API = f"{API_GROUP}/{API_VERSION}"
DataFn = Callable[[Target, Mapping[str, Any]], dict[str, str] | None]


def _owner_reference(target: Target) -> dict[str, Any]:
    """Kubernetes garbage-collects the ConfigMap with its resource, whatever the AWS deletion policy."""
    return {"apiVersion": API, "kind": target.kind, "name": target.name, "uid": target.uid, "blockOwnerDeletion": False}


class ConnectionConfigMapAdapter:
    """Keeps ``spec.connection.configMapName`` filled with what ``data_fn`` derives from the outputs."""

    name = "connection"
    owner_field = "spec.connection.configMapName"

    def __init__(self, kube: Kube, data_fn: DataFn) -> None:
        self._kube = kube
        self._data_fn = data_fn

    @staticmethod
    def _map_name(target: Target) -> str | None:
        connection = getattr(target.spec, "connection", None)
        return getattr(connection, "config_map_name", None)

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        name = self._map_name(target)
        if name is None:
            return Observation(exists=False, up_to_date=True)  # none asked for: absent is in sync
        found = self._kube.get_config_map(target.namespace, name)
        if found is None:
            return Observation.absent()
        owner = owner_of(found.get("metadata", {}).get("annotations") or {})
        wanted = self._data_fn(target, outputs)
        current = found.get("data") or {}
        stale = tuple(sorted(f"data.{k}" for k, v in (wanted or {}).items() if current.get(k) != v))
        if wanted is not None:
            stale += tuple(sorted(f"data.{k} (removed)" for k in current if k not in wanted))
        return Observation(exists=True, up_to_date=not stale, diff=stale, owner=owner)

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None:
        name = self._map_name(target)
        assert name is not None
        self._kube.create_config_map(
            target.namespace,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": name,
                    "annotations": {OWNER_TAG: target.owner},
                    "ownerReferences": [_owner_reference(target)],
                    "labels": {"app.kubernetes.io/managed-by": "upskill-operator"},
                },
                "data": self._data_fn(target, outputs) or {},
            },
        )

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None:
        name = self._map_name(target)
        assert name is not None
        wanted = self._data_fn(target, outputs)
        data: dict[str, str | None] = dict(wanted or {})
        if wanted is not None:  # a merge patch removes a key set to null
            found = self._kube.get_config_map(target.namespace, name) or {}
            data |= {key: None for key in found.get("data") or {} if key not in wanted}
        patch = {"metadata": {"annotations": {OWNER_TAG: target.owner}}, "data": data}
        self._kube.patch_config_map(target.namespace, name, patch)

    def delete(self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy) -> None:
        name = self._map_name(target)
        if name is not None:
            self._kube.delete_config_map(target.namespace, name)
