"""A read-only step before anything is created: the restore source (``spec.restore``) must be restorable.

It runs right after the KMS key step, so a snapshot that does not exist, belongs to another
namespace, runs another engine or whose key is disabled, or a time outside the source's window,
stops the pass with a Terminal condition before the subnet group, the security group or the cluster
is created (zero AWS writes). Terminal passes are retried on the resync timer, so a snapshot that
appears later satisfies the spec without an edit. A snapshot still ``creating`` is a wait
(Progressing), not a failure: the deletion that makes a final snapshot may still be running.

Once the cluster exists the source is history: the step reads nothing more and publishes
``status.restoredFrom`` as recorded (the cluster step adds ``restoredAt``). The resolved source goes to
the cluster step through :class:`RestoreObservation`, never through status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from upskill_operator.adapters.database.common import database_spec, names
from upskill_operator.adapters.database.restore_plan import (
    RestoreSource,
    newest_final_snapshot,
    source_problems,
    time_problem,
)
from upskill_operator.adapters.shared.read_only import ReadOnlyStep
from upskill_operator.adapters.shared.restore_source import NOT_FOUND, refuse, source_owner_problem
from upskill_operator.aws.kms import Kms
from upskill_operator.aws.rds import Rds
from upskill_operator.errors import NotFoundError, TerminalError
from upskill_operator.models.database import DatabaseSpec, PointInTimeSource, SnapshotSource
from upskill_operator.models.database_restore import parse_time
from upskill_operator.models.tags import OWNER_TAG, tag_dict
from upskill_operator.reconcile.protocol import Observation, Steps, Target

__all__ = ["RestoreObservation", "RestoreSourceAdapter"]

GetDatabase = Callable[[str, str], Mapping[str, Any] | None]
"""(namespace, name) -> the UpskillDatabase object, or None."""


@dataclass(frozen=True)
class RestoreObservation(Observation):
    source: RestoreSource | None = None
    """What the cluster step restores from; None when nothing is to be restored (or it exists already)."""


_NOTHING = RestoreObservation(exists=False, up_to_date=True)


class RestoreSourceAdapter(ReadOnlyStep):
    """Implements the reconcile ``Adapter`` protocol for the restore source, which the resource only reads."""

    name = "restore-source"

    def __init__(self, rds: Rds, kms: Kms, name_prefix: str, get_database: GetDatabase) -> None:
        self.rds = rds
        self.kms = kms
        self.name_prefix = name_prefix
        self.get_database = get_database

    def observe(self, target: Target, steps: Steps) -> RestoreObservation:
        spec = database_spec(target)
        if spec.restore is None or target.deleting:
            return _NOTHING
        if self._cluster_exists(target):
            recorded = target.recorded.restored_from
            if recorded is None and target.recorded.text("clusterArn"):
                # seen before without a source: restore was added later (the webhook refuses that edit)
                raise TerminalError(
                    "spec.restore: immutable after creation (the cluster exists and was not restored; "
                    "restore beside it under another name instead)",
                    reason="ImmutableField",
                )
            return RestoreObservation(exists=True, outputs={"restoredFrom": dict(recorded)} if recorded else {})
        if spec.restore.from_snapshot is not None:
            source, waiting = self._snapshot(target, spec, spec.restore.from_snapshot)
        else:
            assert spec.restore.point_in_time is not None  # the model allows exactly one
            source, waiting = self._point_in_time(target, spec, spec.restore.point_in_time), None
        return RestoreObservation(
            exists=True, pending=waiting, outputs={"restoredFrom": source.status()} if source else {}, source=source
        )

    def _cluster_exists(self, target: Target) -> bool:
        if target.recorded.text("clusterArn"):
            return True
        try:
            self.rds.describe_cluster(names(target, self.name_prefix).cluster)
        except NotFoundError:
            return False
        return True  # the cluster step checks whose it is

    def _snapshot(
        self, target: Target, spec: DatabaseSpec, source: SnapshotSource
    ) -> tuple[RestoreSource | None, str | None]:
        if source.final_snapshot_of is not None:
            field = "spec.restore.fromSnapshot.finalSnapshotOf"
            owner = f"{target.namespace}/{source.final_snapshot_of}"
            found, waiting = newest_final_snapshot(self.rds.list_manual_snapshots(), owner)
            if waiting is not None:
                return None, waiting
            if found is None:
                raise TerminalError(
                    f"{field}: no final snapshot of UpskillDatabase {source.final_snapshot_of!r} in namespace "
                    f"{target.namespace!r} (retried on resync)",
                    reason=NOT_FOUND,
                )
            snapshot: Mapping[str, Any] = found
        else:
            field = "spec.restore.fromSnapshot.identifier"
            wanted = str(source.identifier).rsplit(":", 1)[-1]
            try:
                snapshot = self.rds.describe_cluster_snapshot(wanted)
            except NotFoundError:
                raise TerminalError(
                    f"{field}: no DB cluster snapshot {wanted!r} (retried on resync)", reason=NOT_FOUND
                ) from None
        name = str(snapshot.get("DBClusterSnapshotIdentifier") or "")
        problems = [source_owner_problem(field, "snapshot", name, tag_dict(snapshot.get("TagList")), target)]
        refuse(problems)  # another namespace's snapshot is refused even while it is still being taken
        if snapshot.get("Status") != "available":
            if snapshot.get("Status") in ("creating", "copying"):
                return None, f"snapshot {name} is {snapshot.get('Status')} ({snapshot.get('PercentProgress', 0)}%)"
            problems.append(f"{field}: snapshot {name!r} is {snapshot.get('Status')}, not available")
        problems += _fit(field, snapshot, spec)
        problems.append(self._key_problem(field, snapshot))
        refuse(problems)
        return RestoreSource(snapshot=name), None

    def _point_in_time(self, target: Target, spec: DatabaseSpec, source: PointInTimeSource) -> RestoreSource:
        field = "spec.restore.pointInTime"
        identifier = source.source_cluster_identifier or self._cluster_of(target, str(source.source_database))
        try:
            cluster = self.rds.describe_cluster(identifier)
        except NotFoundError:
            raise TerminalError(
                f"{field}: no DB cluster {identifier!r} to restore from (retried on resync)",
                reason=NOT_FOUND,
            ) from None
        tags = tag_dict(cluster.get("TagList"))
        problems = [source_owner_problem(field, "cluster", identifier, tags, target)]
        wanted_owner = f"{target.namespace}/{source.source_database}"
        if source.source_database is not None and problems[0] is None and tags.get(OWNER_TAG) != wanted_owner:
            problems.append(f"{field}.sourceDatabase: cluster {identifier!r} is not {source.source_database!r}'s")
        problems += _fit(field, cluster, spec)
        if cluster.get("DatabaseName") and cluster.get("DatabaseName") != spec.database_name:
            problems.append(
                f"{field}: the source's database is {cluster.get('DatabaseName')!r}; set spec.databaseName to it"
            )
        when = parse_time(source.time) if source.time else None
        if when is not None:
            problems.append(time_problem(f"{field}.time", when, cluster))
        problems.append(self._key_problem(field, cluster))
        refuse(problems)
        return RestoreSource(source_cluster=identifier, time=when)

    def _cluster_of(self, target: Target, database: str) -> str:
        found = self.get_database(target.namespace, database)
        identifier = ((found or {}).get("status") or {}).get("clusterIdentifier")
        if not identifier:
            raise TerminalError(
                f"spec.restore.pointInTime.sourceDatabase: UpskillDatabase {database!r} in namespace "
                f"{target.namespace!r} has no cluster (retried on resync)",
                reason=NOT_FOUND,
            )
        return str(identifier)

    def _key_problem(self, field: str, source: Mapping[str, Any]) -> str | None:
        """The key the source's data is encrypted with must be usable (KMS ``Enabled``)."""
        key = source.get("KmsKeyId")
        if not source.get("StorageEncrypted") or not key:
            return None
        try:
            state = self.kms.key_state(str(key))
        except NotFoundError:
            return f"{field}: the source's KMS key {key} does not exist"
        return None if state == "Enabled" else f"{field}: the source's KMS key {key} is {state}, not Enabled"


def _fit(field: str, source: Mapping[str, Any], spec: DatabaseSpec) -> list[str]:
    return source_problems(
        field,
        source,
        engine_version=spec.engine_version,
        master_username=spec.master_user.username,
        encrypted=spec.storage_encrypted,
        kms_key=spec.kms_key_id,
    )
