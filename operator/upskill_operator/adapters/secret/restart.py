"""Roll the workloads that read a secret when its synced value changes (``restartOnChange``).

The mark is a pod-template annotation whose value is a hash of the synced version, one key per
UpskillSecret (``upskill.io/secret.<name>``), so the rollout happens once per new version
whatever the number of passes, and two secrets never undo each other's mark. Restarts follow a
*change*: the first sync of a resource rolls nothing (``status.restartedVersionId`` is recorded
instead), and deleting the resource rolls nothing. A workload that does not exist is skipped:
when it is created, it reads the current value anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from upskill_operator.adapters.secret.source import secret_spec
from upskill_operator.adapters.secret.values import short_hash
from upskill_operator.kube.workloads import Workloads
from upskill_operator.models.secret import RestartTarget
from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Target

__all__ = ["RestartAdapter", "restart_annotation", "version_mark"]

_NAME_PART_MAX = 63


def restart_annotation(name: str) -> str:
    """``upskill.io/secret.<name>``, hashed to fit the 63-character name part of an annotation key."""
    part = f"secret.{name}"
    if len(part) > _NAME_PART_MAX:
        part = f"secret.{name[:46].rstrip('.-')}.{short_hash(name, 8)}"
    return f"upskill.io/{part}"


def version_mark(version_id: str) -> str:
    """The annotation value for a version: a hash, so the version id itself stays in status only."""
    return short_hash(f"upskill.io/restart\0{version_id}")


class RestartAdapter:
    """Observes which restartOnChange workloads lack the mark of the synced version; update rolls them."""

    name = "restart"
    owner_field = None

    def __init__(self, workloads: Workloads) -> None:
        self._workloads = workloads

    def _stale(self, target: Target, version: str) -> list[RestartTarget]:
        spec = secret_spec(target).target
        key, mark = restart_annotation(target.name), version_mark(version)
        stale = []
        for workload in spec.restart_on_change if spec is not None else ():
            found = self._workloads.template_annotations(workload.kind, target.namespace, workload.name)
            if found is not None and found.get(key) != mark:
                stale.append(workload)
        return stale

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        spec = secret_spec(target).target
        version = outputs.get("syncedVersionId")
        if target.deleting:
            return Observation(exists=False, up_to_date=True)  # the workloads are not ours to delete
        if spec is None or not isinstance(version, str):
            return Observation(exists=True)
        before = target.status.get("restartedVersionId")
        done = {"restartedVersionId": version}
        if not spec.restart_on_change or before in (None, version):
            return Observation(exists=True, outputs=done)  # the first value, or no change: nothing to roll
        stale = self._stale(target, version)
        if not stale:
            return Observation(exists=True, outputs=done)
        diff = tuple(f"restartOnChange.{w.kind}/{w.name}" for w in stale)
        return Observation(exists=True, up_to_date=False, diff=diff)

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None:
        """Nothing to create: the workloads are the app's."""

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None:
        version = outputs.get("syncedVersionId")
        assert isinstance(version, str)
        key, mark = restart_annotation(target.name), version_mark(version)
        for workload in self._stale(target, version):
            self._workloads.set_template_annotation(workload.kind, target.namespace, workload.name, key, mark)
            target.events.emit(
                "Normal", "RolloutRestarted", f"{workload.kind}/{workload.name}: restarted for version {version}"
            )

    def delete(self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy) -> None:
        """Deleting the secret rolls nothing."""
