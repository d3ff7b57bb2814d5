"""Restores and on-demand snapshots as AWS does them, and the hook that lets the data plane copy the data.

moto 5.2.5 gaps closed here (each line is AWS's behaviour):

- ``RestoreDBClusterFromSnapshot`` answered HTTP 500 (moto read a private field the copied cluster
  lacks). Here it builds the cluster from the snapshot (engine, version, master user name, database
  name, encryption and key are the snapshot's) with the request's subnet group, security groups,
  tags, scaling, IAM auth, deletion protection, backup retention and window; it answers
  ``DBClusterSnapshotNotFoundFault`` for a missing snapshot, ``InvalidDBClusterSnapshotStateFault``
  for one not ``available``, ``InvalidParameterCombination`` when ``Engine`` differs from the
  snapshot's or ``EngineVersion`` is of another major or lower, ``DBClusterAlreadyExistsFault`` for a
  taken identifier.
- ``RestoreDBClusterToPointInTime`` copied the source's RDS-managed master secret setting (a new
  secret with moto's fixed value) and accepted any time: here the time must lie inside
  [EarliestRestorableTime, LatestRestorableTime] (``InvalidRestoreFault``), the source must exist
  (``DBClusterNotFoundFault``), and the request's tags replace the source's.
- Neither restore call takes ``ManageMasterUserPassword`` (AWS's API has no such parameter for
  them): the restored cluster has the source's master user with the source's password and no
  managed secret; ``ModifyDBCluster`` with ``ManageMasterUserPassword`` then makes one (moto made one
  holding ``admin`` / a fixed password: here the cluster's master user and a random password).
- An encrypted cluster created without ``KmsKeyId`` reports the ARN of the account's ``alias/aws/rds``
  key, as AWS does (moto reported the string ``default_kms_key_id``, which no DescribeKey finds), and
  its snapshots the same key.
- A cluster made again under a deleted one's identifier within the same minute failed with HTTP 400
  ``DBClusterSnapshotAlreadyExists`` after being added (moto's automated snapshot name): a deleted
  cluster's automated snapshots go with it, as AWS's do by default.
- ``LatestRestorableTime`` is now (moto's), or, when the data plane keeps a timeline of copies of the
  cluster's database (:mod:`.snapshot_data`), the time of its newest copy: the latest time the bed can
  restore exactly. AWS's trails now by about 5 minutes.

:data:`SNAPSHOT_HOOKS` are called (in the moto server's process, before the snapshot is answered) with
(account, region, cluster identifier, snapshot identifier) for every manual and final snapshot, so the
data plane (:mod:`.rds_backer`) copies the cluster's database at that moment.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.kms.models import kms_backends
from moto.rds.exceptions import DBClusterNotFoundError, RDSClientError
from moto.rds.models import DBCluster

from upskill_sandbox.rds_extension import master_password, replace_secret_value
from upskill_sandbox.rds_pending import LOCK, hold
from upskill_sandbox.rds_snapshots import SnapshotExtension

__all__ = ["LATEST", "RESTORED_FROM", "SNAPSHOT_DROP_HOOKS", "SNAPSHOT_HOOKS", "RestoreExtension", "make_rds_response"]

SnapshotHook = Callable[[str, str, str, str], None]
SNAPSHOT_HOOKS: list[SnapshotHook] = []
"""Called with (account, region, cluster, snapshot) before a snapshot is answered."""
SNAPSHOT_DROP_HOOKS: list[SnapshotHook] = []
"""Called with (account, region, cluster, snapshot) when a snapshot is deleted (or its taking failed)."""
RESTORED_FROM = "_upskill_restored_from"
"""Attribute of a restored moto cluster: ("snapshot", id) or ("time", source cluster, ISO time)."""

_PASSED = {
    "DBSubnetGroupName": "db_subnet_group_name",
    "VpcSecurityGroupIds": "vpc_security_group_ids",
    "EnableIAMDatabaseAuthentication": "enable_iam_database_authentication",
    "DeletionProtection": "deletion_protection",
    "CopyTagsToSnapshot": "copy_tags_to_snapshot",
    "BackupRetentionPeriod": "backup_retention_period",
    "PreferredBackupWindow": "preferred_backup_window",
    "ServerlessV2ScalingConfiguration": "serverless_v2_scaling_configuration",
    "KmsKeyId": "kms_key_id",
    "Port": "port",
    "Tags": "tags",
}


def _major(version: str | None) -> tuple[int, int]:
    parts = [int(p) if p.isdigit() else 0 for p in (version or "0").split(".")[:2]] + [0, 0]
    return parts[0], parts[1]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class RestoreExtension(SnapshotExtension):
    """The restore calls, on-demand snapshots and the data plane's snapshot hooks."""

    def _hook(self, hooks: list[SnapshotHook], cluster: str, snapshot: str) -> None:
        for hook in list(hooks):
            hook(self.current_account, self.region, cluster, snapshot)

    def _props(self, base: dict[str, Any], identifier: str) -> dict[str, Any]:
        props = {k: copy.copy(v) for k, v in base.items() if k not in ("backend", "db_subnet_group")}
        for key in [k for k in props if k.startswith("_")]:
            props[key[1:]] = props.pop(key)
        for drop in ("master_user_secret", "db_cluster_arn", "endpoint", "reader_endpoint", "status", "members"):
            props.pop(drop, None)
        props["manage_master_user_password"] = False
        props["master_user_password"] = base.get("_master_user_password") or master_password()  # the source's
        props["db_cluster_identifier"] = identifier
        props["tags"] = []
        for wire, name in _PASSED.items():
            if self.params.get(wire) is not None:
                props[name] = self.params[wire]
        if self.params.get("KmsKeyId"):
            props["storage_encrypted"] = True  # a key encrypts the copy of an unencrypted source
        if "enable_iam_database_authentication" in props:
            props["iam_auth"] = bool(props["enable_iam_database_authentication"])
        return props

    def _create(self, props: dict[str, Any], restored_from: tuple[str, ...]) -> ActionResult:
        identifier = props["db_cluster_identifier"]
        if identifier in self.backend.clusters:
            raise RDSClientError("DBClusterAlreadyExistsFault", f"DB Cluster {identifier} already exists")
        self._forget_automated(identifier)
        cluster = self.backend.create_db_cluster(props)
        self._managed_key(cluster)
        setattr(cluster, RESTORED_FROM, restored_from)
        cluster.status = "available"
        if self._pending():  # AWS takes minutes; the cluster shows creating meanwhile
            cluster.status = "creating"
            hold(self.backend, "cluster", identifier, "creating", self._pending())
        return ActionResult({"DBCluster": cluster})

    def _managed_key(self, cluster: Any) -> None:
        if cluster.storage_encrypted and cluster.kms_key_id in (None, "", "default_kms_key_id"):
            kms = kms_backends[self.current_account][self.region]
            key_id = kms.get_key_id_from_alias("alias/aws/rds")
            cluster.kms_key_id = kms.keys[key_id].arn if key_id else cluster.kms_key_id

    def _forget_automated(self, identifier: str) -> None:
        """A deleted cluster's automated snapshots go with it (AWS's default), so a cluster made again under
        its name within the minute does not collide with them (moto refused, after adding the cluster)."""
        if identifier in self.backend.clusters:
            return
        stale = [
            k
            for k, snap in self.backend.cluster_snapshots.items()
            if snap.snapshot_type == "automated" and k.startswith(f"rds:{identifier}-")
        ]
        for key in stale:
            del self.backend.cluster_snapshots[key]

    def create_db_cluster(self) -> ActionResult:
        with LOCK:
            self._forget_automated(self.params.get("DBClusterIdentifier") or "")
            result = super().create_db_cluster()
            cluster = self.backend.clusters.get(self.params.get("DBClusterIdentifier") or "")
            if cluster is not None:
                self._managed_key(cluster)
            return result

    def restore_db_cluster_from_snapshot(self) -> ActionResult:
        with LOCK:
            name = self.params.get("SnapshotIdentifier") or ""
            name = name.rsplit(":", 1)[-1] if name.startswith("arn:") else name
            snapshot = self.backend.cluster_snapshots.get(name)
            if snapshot is None:
                raise RDSClientError("DBClusterSnapshotNotFoundFault", f"DBClusterSnapshot {name} not found.")
            if snapshot.status != "available":
                raise RDSClientError(
                    "InvalidDBClusterSnapshotStateFault", f"DBClusterSnapshot {name} is {snapshot.status}."
                )
            source = snapshot.cluster
            if self.params.get("Engine") != source.engine:
                raise RDSClientError(
                    "InvalidParameterCombination",
                    f"The engine {self.params.get('Engine')} does not match the snapshot's engine {source.engine}.",
                )
            wanted = self.params.get("EngineVersion")
            if wanted and (
                _major(wanted)[0] != _major(source.engine_version)[0] or _major(wanted) < _major(source.engine_version)
            ):
                raise RDSClientError(
                    "InvalidParameterCombination",
                    f"Cannot restore a {source.engine_version} snapshot as version {wanted}.",
                )
            props = self._props(source.__dict__, self.params.get("DBClusterIdentifier") or "")
            if wanted:
                props["engine_version"] = wanted
            return self._create(props, ("snapshot", name))

    def restore_db_cluster_to_point_in_time(self) -> ActionResult:
        with LOCK:
            source_id = self.params.get("SourceDBClusterIdentifier") or ""
            source = self.backend.clusters.get(source_id)
            if source is None:
                raise DBClusterNotFoundError(source_id)
            earliest, latest = restorable_window(source)
            if self.params.get("UseLatestRestorableTime"):
                when = latest
            else:
                when = _aware(self.params["RestoreToTime"])
                if not earliest <= when <= latest:
                    raise RDSClientError(
                        "InvalidRestoreFault",
                        f"The requested point in time {when.isoformat()} is outside the restorable window "
                        f"({earliest.isoformat()} to {latest.isoformat()}).",
                    )
            props = self._props(source.__dict__, self.params.get("DBClusterIdentifier") or "")
            return self._create(props, ("time", source_id, when.isoformat()))

    def modify_db_cluster(self) -> ActionResult:
        with LOCK:
            cluster = self.backend.clusters.get(self.params.get("DBClusterIdentifier") or "")
            had = getattr(cluster, "master_user_secret", None) is not None
            result = super().modify_db_cluster()
            if cluster is not None and not had and getattr(cluster, "master_user_secret", None) is not None:
                value = {"username": str(cluster.master_username), "password": master_password()}
                replace_secret_value(cluster.master_user_secret.secret, value)
            return result

    def create_db_cluster_snapshot(self) -> ActionResult:
        with LOCK:
            cluster = self._cluster(self.params.get("DBClusterIdentifier"))
            name = self.params.get("DBClusterSnapshotIdentifier") or ""
            if name in self.backend.cluster_snapshots:
                raise RDSClientError("DBClusterSnapshotAlreadyExistsFault", f"Snapshot {name} already exists.")
            self._hook(SNAPSHOT_HOOKS, cluster.db_cluster_identifier, name)
            try:
                return super().create_db_cluster_snapshot()
            except Exception:
                self._hook(SNAPSHOT_DROP_HOOKS, cluster.db_cluster_identifier, name)
                raise

    def delete_db_cluster_snapshot(self) -> ActionResult:
        with LOCK:
            name = self.params.get("DBClusterSnapshotIdentifier") or ""
            snapshot = self.backend.cluster_snapshots.get(name)
            result = super().delete_db_cluster_snapshot()
            if snapshot is not None:
                self._hook(SNAPSHOT_DROP_HOOKS, snapshot.cluster.db_cluster_identifier, name)
            return result

    def delete_db_cluster(self) -> ActionResult:
        with LOCK:
            identifier = self.params.get("DBClusterIdentifier") or ""
            final = self.params.get("FinalDBSnapshotIdentifier")
            take = bool(final) and not self.params.get("SkipFinalSnapshot") and identifier in self.backend.clusters
            if take and final not in self.backend.cluster_snapshots:
                self._hook(SNAPSHOT_HOOKS, identifier, str(final))  # while the cluster's data still exists
            try:
                return super().delete_db_cluster()
            except Exception:
                if take and final not in self.backend.cluster_snapshots:
                    self._hook(SNAPSHOT_DROP_HOOKS, identifier, str(final))
                raise


LATEST = "_upskill_latest"
"""Attribute of a moto cluster: the time (naive UTC) of the data plane's newest copy of its database."""


def _latest_restorable_time(cluster: Any) -> datetime:
    found: datetime | None = cluster.__dict__.get(LATEST)
    return found or utcnow()


DBCluster.latest_restorable_time = property(_latest_restorable_time)  # type: ignore[assignment,method-assign]


def restorable_window(cluster: Any) -> tuple[datetime, datetime]:
    """[EarliestRestorableTime, LatestRestorableTime] of a moto cluster, as its describe reports them."""
    earliest = _aware(cluster.earliest_restorable_time)
    latest = max(earliest, _aware(cluster.latest_restorable_time))
    return earliest, latest


def make_rds_response(emulation: Any) -> type[RestoreExtension]:
    """The response class one server uses, bound to that server's :class:`~.moto_app.RdsEmulation`."""
    return type("UpskillRDSResponse", (RestoreExtension,), {"emulation": emulation})
