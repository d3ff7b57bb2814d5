"""The CA ConfigMap ``upskill-db-ca``: the bundle apps verify database certificates with.

Every namespace with an UpskillSecret whose source is a database gets it when the operator has a
CA bundle (``Settings.db_ca_bundle``): key ``ca.pem``, the bundle file's content. Apps mount it at
``Settings.app_ca_path``, the ``sslrootcert`` of the URLs they are given. One ConfigMap serves all
such UpskillSecrets of the namespace, so each is one of its ownerReferences: Kubernetes removes it
with the last of them, and an UpskillSecret that stops being a database source (or is deleted)
takes its own reference off (deleting the ConfigMap when no reference is left).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from upskill_operator.adapters.secret.source import secret_spec
from upskill_operator.errors import RecoverableError, TerminalError
from upskill_operator.kube.client import Kube
from upskill_operator.models.common import API_GROUP, API_VERSION
from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Target

__all__ = ["CA_CONFIG_MAP", "CA_KEY", "CaConfigMapAdapter"]

CA_CONFIG_MAP = "upskill-db-ca"
CA_KEY = "ca.pem"
_MANAGED = {"app.kubernetes.io/managed-by": "upskill-operator"}


def _reference(target: Target) -> dict[str, Any]:
    kind = target.kind
    return {"apiVersion": f"{API_GROUP}/{API_VERSION}", "kind": kind, "name": target.name, "uid": target.uid}


def _references(found: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in (found.get("metadata") or {}).get("ownerReferences") or []]


def _ours(found: Mapping[str, Any], target: Target) -> bool:
    return any(r.get("uid") == target.uid for r in _references(found))


class CaConfigMapAdapter:
    """Keeps ``upskill-db-ca`` holding the bundle, with this UpskillSecret among its owners."""

    name = "CA ConfigMap"
    owner_field = None  # shared by the namespace's database sources: ownership is the ownerReferences

    def __init__(self, kube: Kube, ca_bundle: str | None) -> None:
        self._kube = kube
        self._bundle = ca_bundle

    def _wanted(self, target: Target) -> bool:
        return self._bundle is not None and not target.deleting and secret_spec(target).source.database is not None

    def _content(self) -> str:
        assert self._bundle is not None
        try:
            return Path(self._bundle).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise RecoverableError(
                f"cannot read the operator's database CA bundle {self._bundle}: {type(exc).__name__}",
                reason="CaBundleUnreadable",
            ) from None

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        if self._bundle is None:  # without a bundle the operator never makes the ConfigMap
            return Observation(exists=False, up_to_date=True)
        found = self._kube.get_config_map(target.namespace, CA_CONFIG_MAP)
        if not self._wanted(target):
            if found is not None and _ours(found, target):
                return Observation(exists=True, up_to_date=False, diff=("ownerReferences",), unwanted=True)
            return Observation(exists=False, up_to_date=True)
        if found is None:
            return Observation.absent()
        labels = (found.get("metadata") or {}).get("labels") or {}
        if labels.get("app.kubernetes.io/managed-by") != _MANAGED["app.kubernetes.io/managed-by"]:
            raise TerminalError(
                f"ConfigMap {CA_CONFIG_MAP} exists and is not the operator's: remove it, or rename it",
                reason="CaConfigMapForeign",
            )
        stale = [] if (found.get("data") or {}).get(CA_KEY) == self._content() else [f"data.{CA_KEY}"]
        if not _ours(found, target):
            stale.append("ownerReferences")
        return Observation(exists=True, up_to_date=not stale, diff=tuple(stale))

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None:
        metadata = {"name": CA_CONFIG_MAP, "labels": dict(_MANAGED), "ownerReferences": [_reference(target)]}
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {CA_KEY: self._content()}}
        self._kube.create_config_map(target.namespace, body)

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None:
        found = self._kube.get_config_map(target.namespace, CA_CONFIG_MAP) or {}
        references = [r for r in _references(found) if r.get("uid") != target.uid] + [_reference(target)]
        patch = {"metadata": {"ownerReferences": references}, "data": {CA_KEY: self._content()}}
        self._kube.patch_config_map(target.namespace, CA_CONFIG_MAP, patch)

    def delete(self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy) -> None:
        """Take this UpskillSecret's reference off; the last one out deletes the ConfigMap."""
        found = self._kube.get_config_map(target.namespace, CA_CONFIG_MAP)
        if found is None:
            return
        references = [r for r in _references(found) if r.get("uid") != target.uid]
        if references:
            self._kube.patch_config_map(target.namespace, CA_CONFIG_MAP, {"metadata": {"ownerReferences": references}})
        else:
            self._kube.delete_config_map(target.namespace, CA_CONFIG_MAP)
