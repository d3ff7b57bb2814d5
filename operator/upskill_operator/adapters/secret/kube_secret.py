"""The Kubernetes Secret apps read: the value (or fields of a JSON value) under the spec's keys.

Several UpskillSecrets usually fill one Secret (``web-env``), next to keys people put there. So
the operator owns keys, not the Secret: the annotation ``upskill.io/key-owners`` maps each key it
wrote to its UpskillSecret (``namespace/name``), writes touch only those keys (a merge patch
guarded by the resourceVersion read, retried on a conflict), a key another UpskillSecret owns is
refused (Terminal, never fought over), and deletion removes only our keys. The Secret itself is
deleted only when the operator created it and no key is left.

Every pass compares the Secret with the AWSCURRENT value the secret adapter read, so a new
version is synced in the pass that sees it, and an edit of the Secret is undone at the next
refresh (``refreshIntervalSeconds``, see ``handlers/secret.py``).

``status.syncedSecretName`` remembers which Secret holds our keys: when ``target.secretName``
changes, or the target is removed, our keys leave the former Secret (the same way deletion
removes them), so no stale credential stays readable there.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import SecretStr

from upskill_operator.adapters.secret.rotation_plan import rfc3339
from upskill_operator.adapters.secret.source import secret_spec
from upskill_operator.adapters.secret.values import (
    CURRENT_KEY,
    SOURCE_KEY,
    Current,
    Resolved,
    field_values,
    same_value,
    without_fields,
)
from upskill_operator.errors import RecoverableError, TerminalError
from upskill_operator.kube.secrets import KubeConflictError, KubeSecret, KubeSecrets
from upskill_operator.models.secret import KeyMapping, TargetSpec
from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Target

__all__ = ["CREATED_BY", "KEY_OWNERS", "KubeSecretSyncAdapter", "key_owners"]

KEY_OWNERS = "upskill.io/key-owners"
CREATED_BY = "upskill.io/created-by"
_LABELS = {"app.kubernetes.io/managed-by": "upskill-operator"}
_ATTEMPTS = 4


def key_owners(found: KubeSecret | None) -> dict[str, str]:
    """The key -> owner map of a Secret (empty when absent or unreadable)."""
    if found is None:
        return {}
    try:
        owners = json.loads(found.annotations.get(KEY_OWNERS) or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in owners.items()} if isinstance(owners, dict) else {}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class KubeSecretSyncAdapter:
    """Keeps ``spec.target`` keys of a Kubernetes Secret equal to the AWSCURRENT value."""

    name = "sync"
    owner_field = None

    def __init__(self, secrets: KubeSecrets, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self._secrets = secrets
        self._clock = clock

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        spec = secret_spec(target).target
        former = self._former(target)
        left = [f"Secret {former}: keys left from the former target"] if former and self._holds(target, former) else []
        if spec is None:
            if target.deleting:
                return Observation(exists=bool(left))  # only keys left in a former Secret remain to remove
            return Observation(exists=True, up_to_date=not left, diff=tuple(left), outputs={"syncedSecretName": None})
        found = self._secrets.get(target.namespace, spec.secret_name)
        owners = key_owners(found)
        mine = {key for key, owner in owners.items() if target.is_ours(owner)}
        exists = found is not None and bool(mine)
        if target.deleting:
            return Observation(exists=exists)
        current = outputs.get(CURRENT_KEY)
        if not isinstance(current, Current):
            return Observation(exists=True, pending="waiting for a value in Secrets Manager")
        wanted = self._wanted(spec, current, outputs.get(SOURCE_KEY))
        taken = sorted(k for k in wanted if k in owners and not target.is_ours(owners[k]))
        if taken:
            raise TerminalError(
                "; ".join(
                    f"key {k} of Secret {spec.secret_name} is written by UpskillSecret {owners[k]}" for k in taken
                ),
                reason="KeyConflict",
            )
        data = found.data if found is not None else {}
        diff = [f"data.{k}" for k in sorted(wanted) if not same_value(data.get(k), wanted[k])]
        diff += [f"data.{k}" for k in sorted(mine - set(wanted))]  # keys we wrote and no longer want
        if set(wanted) - mine:
            diff.append(f"metadata.annotations.{KEY_OWNERS}")
        now = rfc3339(self._clock())
        diff += left
        published: dict[str, Any] = {
            "syncedKeys": sorted(wanted),
            "syncedSecretName": spec.secret_name,
            "lastRefreshTime": now,
        }
        if not diff:
            unchanged = target.status.get("syncedVersionId") == current.version_id
            published["syncedVersionId"] = current.version_id
            published["syncedTime"] = target.status.get("syncedTime") if unchanged else now
        return Observation(exists=exists, up_to_date=not diff, diff=tuple(diff), outputs=published)

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None:
        """Create the Secret, or add our keys to the one that exists."""
        self.update(target, outputs, Observation(exists=False))

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None:
        spec = secret_spec(target).target
        former = self._former(target)
        if former:
            self._release(target, former)
        if spec is None:
            return
        current = outputs.get(CURRENT_KEY)
        if not isinstance(current, Current):
            raise AssertionError("sync.update needs spec.target and the current value")
        wanted = self._wanted(spec, current, outputs.get(SOURCE_KEY))
        for _ in range(_ATTEMPTS):
            found = self._secrets.get(target.namespace, spec.secret_name)
            owners = key_owners(found)
            try:
                if found is None:
                    self._secrets.create(
                        target.namespace,
                        spec.secret_name,
                        wanted,
                        annotations={KEY_OWNERS: _dump(dict.fromkeys(wanted, target.owner)), CREATED_BY: target.owner},
                        labels=_LABELS,
                    )
                    return
                stale = [k for k, owner in owners.items() if target.is_ours(owner) and k not in wanted]
                new_owners = {k: v for k, v in owners.items() if k not in stale} | dict.fromkeys(wanted, target.owner)
                data: dict[str, SecretStr | None] = {**wanted, **dict.fromkeys(stale)}
                self._secrets.patch(
                    target.namespace,
                    spec.secret_name,
                    resource_version=found.resource_version,
                    data=data,
                    annotations={KEY_OWNERS: _dump(new_owners)},
                )
                return
            except KubeConflictError:
                continue  # someone wrote meanwhile (another UpskillSecret sharing the Secret): read again
        raise RecoverableError(
            f"Secret {spec.secret_name} kept changing under us; retrying", reason="KubernetesConflict"
        )

    def delete(self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy) -> None:
        """Remove our keys (and the Secret, if we created it and nothing else is left in it)."""
        spec = secret_spec(target).target
        for name in {spec.secret_name if spec else None, self._former(target)} - {None}:
            self._release(target, str(name))

    def _former(self, target: Target) -> str | None:
        """The Secret that held our keys, when it is not the one the spec names now."""
        spec = secret_spec(target).target
        recorded = target.status.get("syncedSecretName")
        return str(recorded) if recorded and (spec is None or recorded != spec.secret_name) else None

    def _holds(self, target: Target, name: str) -> bool:
        return any(map(target.is_ours, key_owners(self._secrets.get(target.namespace, name)).values()))

    def _release(self, target: Target, name: str) -> None:
        """Remove our keys from Secret ``name`` (deleting it if we created it and nothing else is left)."""
        for _ in range(_ATTEMPTS):
            found = self._secrets.get(target.namespace, name)
            if found is None:
                return
            owners = key_owners(found)
            mine = [k for k, owner in owners.items() if target.is_ours(owner)]
            if not mine:
                return
            left = {k: v for k, v in owners.items() if k not in mine}
            try:
                if found.annotations.get(CREATED_BY) and not (set(found.data) - set(mine)):
                    self._secrets.delete(target.namespace, name, resource_version=found.resource_version)
                else:
                    self._secrets.patch(
                        target.namespace,
                        name,
                        resource_version=found.resource_version,
                        data=dict.fromkeys(mine),
                        annotations={KEY_OWNERS: _dump(left) if left else None},
                    )
                return
            except KubeConflictError:
                continue
        raise RecoverableError(f"Secret {name} kept changing under us; retrying", reason="KubernetesConflict")

    @staticmethod
    def _wanted(spec: TargetSpec, current: Current, resolved: Any) -> dict[str, SecretStr]:
        if spec.keys:
            return field_values(current.value, spec.keys)
        assert spec.key is not None
        if isinstance(resolved, Resolved) and resolved.sync_field:  # an application user's URL from its record
            return field_values(
                current.value, [KeyMapping.model_validate({"key": spec.key, "field": resolved.sync_field})]
            )
        hidden = resolved.hidden if isinstance(resolved, Resolved) else ()
        return {spec.key: without_fields(current.value, hidden)}


def _dump(owners: Mapping[str, str]) -> str:
    return json.dumps(dict(sorted(owners.items())), separators=(",", ":"))
