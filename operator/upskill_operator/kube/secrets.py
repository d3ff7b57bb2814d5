"""Kubernetes Secrets the operator writes into: typed reads and guarded merge patches.

Values come out decoded as ``SecretStr`` and go in from ``SecretStr``; nothing here logs or
formats them. Writes are merge patches that name only the keys being set or removed, so keys
written by anyone else survive, and they carry the ``resourceVersion`` that was read: a
concurrent writer makes the patch fail with :class:`KubeConflictError` instead of being lost.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from kubernetes.client.exceptions import ApiException
from pydantic import SecretStr

from upskill_operator.errors import RecoverableError
from upskill_operator.kube.client import Kube, raise_api_error

__all__ = ["KubeConflictError", "KubeSecret", "KubeSecrets"]

_MERGE = "application/merge-patch+json"


class KubeConflictError(RecoverableError):
    """Someone else changed the object between our read and our write (HTTP 409)."""

    reason = "KubernetesConflict"


@dataclass(frozen=True)
class KubeSecret:
    name: str
    resource_version: str
    annotations: Mapping[str, str]
    labels: Mapping[str, str]
    data: Mapping[str, SecretStr] = field(repr=False)


def _encode(value: SecretStr) -> str:
    return base64.b64encode(value.get_secret_value().encode()).decode()


def _decode(raw: str) -> SecretStr:
    try:
        return SecretStr(base64.b64decode(raw).decode())
    except (binascii.Error, UnicodeDecodeError):
        return SecretStr("")  # binary data: never equal to a text value, so it is rewritten


class KubeSecrets:
    """Read, create, patch and delete Secrets in a namespace."""

    def __init__(self, kube: Kube) -> None:
        self._kube = kube

    def get(self, namespace: str, name: str) -> KubeSecret | None:
        try:
            found = self._kube.core.read_namespaced_secret(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise_api_error(exc, f"reading Secret {namespace}/{name}")
        raw: dict[str, Any] = self._kube.api.sanitize_for_serialization(found)
        meta = raw.get("metadata") or {}
        return KubeSecret(
            name=name,
            resource_version=str(meta.get("resourceVersion") or ""),
            annotations=dict(meta.get("annotations") or {}),
            labels=dict(meta.get("labels") or {}),
            data={key: _decode(str(value)) for key, value in (raw.get("data") or {}).items()},
        )

    def create(
        self,
        namespace: str,
        name: str,
        data: Mapping[str, SecretStr],
        *,
        annotations: Mapping[str, str],
        labels: Mapping[str, str],
    ) -> None:
        """Create an Opaque Secret; a Secret created meanwhile by someone else is a conflict."""
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": name, "annotations": dict(annotations), "labels": dict(labels)},
            "data": {key: _encode(value) for key, value in data.items()},
        }
        try:
            self._kube.core.create_namespaced_secret(namespace, cast(Any, body))
        except ApiException as exc:
            if exc.status == 409:
                raise KubeConflictError(f"Secret {namespace}/{name} was created meanwhile") from None
            raise_api_error(exc, f"creating Secret {namespace}/{name}")

    def patch(
        self,
        namespace: str,
        name: str,
        *,
        resource_version: str,
        data: Mapping[str, SecretStr | None],
        annotations: Mapping[str, str | None],
    ) -> None:
        """Set (or, with None, remove) only the given keys and annotations, if nobody wrote since our read."""
        body = {
            "metadata": {"resourceVersion": resource_version, "annotations": dict(annotations)},
            "data": {key: None if value is None else _encode(value) for key, value in data.items()},
        }
        try:
            self._kube.core.patch_namespaced_secret(name, namespace, body, _content_type=_MERGE)
        except ApiException as exc:
            if exc.status == 409:
                raise KubeConflictError(f"Secret {namespace}/{name} changed meanwhile") from None
            raise_api_error(exc, f"patching Secret {namespace}/{name}")

    def delete(self, namespace: str, name: str, *, resource_version: str) -> None:
        """Delete the Secret if it is still the version we read (a precondition, so a new key is never lost)."""
        options: dict[str, Any] = {"preconditions": {"resourceVersion": resource_version}}
        try:
            self._kube.core.delete_namespaced_secret(name, namespace, body=cast(Any, options))
        except ApiException as exc:
            if exc.status == 409:
                raise KubeConflictError(f"Secret {namespace}/{name} changed meanwhile") from None
            if exc.status != 404:
                raise_api_error(exc, f"deleting Secret {namespace}/{name}")
