"""The Aurora PostgreSQL cluster: engine, scaling, IAM auth, encryption, backups, protection, master secret.

Observe is one DescribeDBClusters (tags come with it); a KMS alias in the spec costs one DescribeKey
per cache period. The comparison is :mod:`.db_cluster_state` (pure). Deletion follows the policy:
``Snapshot`` deletes with a final snapshot named ``<cluster>-final-<uid8>``, ``Delete`` without one;
AWS deletion protection still on (the spec already says false, or the engine would have refused)
is turned off first. ``Retain`` never reaches this adapter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from upskill_operator.adapters.database.cluster_plan import (
    ClusterPlan,
    ClusterState,
    ObservedCluster,
    create_request,
    desired_cluster,
    observed_cluster,
    plan_cluster,
)
from upskill_operator.adapters.database.common import database_spec, desired_tags, names, naming
from upskill_operator.adapters.database.restore_plan import restore_request
from upskill_operator.adapters.database.restore_source import RestoreObservation
from upskill_operator.adapters.database.security_group import SecurityGroupObservation
from upskill_operator.adapters.shared.data_gone import cluster_gone
from upskill_operator.adapters.shared.kms_key import spec_key_arn
from upskill_operator.aws.kms import Kms
from upskill_operator.aws.rds import Rds
from upskill_operator.errors import NotFoundError, RecoverableError, TerminalError
from upskill_operator.models.tags import owner_of
from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Steps, Target

__all__ = ["ClusterAdapter", "ClusterObservation"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterObservation(Observation):
    cluster: ObservedCluster | None = None
    plan: ClusterPlan | None = None


class ClusterAdapter:
    """Implements the reconcile ``Adapter`` protocol for the Aurora cluster."""

    name = "cluster"
    owner_field = "spec.clusterIdentifier"

    def __init__(self, rds: Rds, kms: Kms, name_prefix: str) -> None:
        self.rds = rds
        self.kms = kms
        self.name_prefix = name_prefix

    def identifier(self, target: Target) -> str:
        return names(target, self.name_prefix).cluster  # Terminal when the spec renames the cluster

    def wanted(self, target: Target, steps: Steps) -> bool:
        return True

    def observe(self, target: Target, steps: Steps) -> ClusterObservation:
        identifier = self.identifier(target)
        try:
            raw = self.rds.describe_cluster(identifier)
        except NotFoundError:
            if target.deleting and target.deletion_policy == "Snapshot":
                return self._after_deletion(target, identifier)
            lost = None
            if target.recorded.text("clusterArn") and not target.deleting:  # it existed: gone, not "not created yet"
                lost = cluster_gone(identifier, self.rds.list_cluster_snapshots(identifier))
            return ClusterObservation(
                exists=False, up_to_date=False, pinned={"clusterIdentifier": identifier}, gone=lost
            )
        have = observed_cluster(raw)
        plan = plan_cluster(
            self._desired(target, steps),
            have,
            target.recorded.managed_tag_keys,
            allow_major=database_spec(target).allow_major_version_upgrade,
        )
        owner, named = owner_of(have.tags), naming(target, self.name_prefix, lambda n: n.cluster)
        return ClusterObservation(
            exists=True,
            up_to_date=not plan.diff,
            diff=plan.diff,
            pending=plan.pending,
            owner=owner,
            naming=named,
            conflicts=plan.conflicts,
            late_initialized=plan.late_initialized,
            outputs=_outputs(have, raw if database_spec(target).restore is not None else None),
            pinned={"clusterIdentifier": identifier},
            managed_tags=frozenset(desired_tags(target)) | frozenset(plan.tags_to_remove),
            cluster=have,
            plan=plan,
        )

    def create(self, target: Target, steps: Steps) -> None:
        if not _security_groups(steps):
            raise TerminalError("the security groups are unknown; the security group step has not run", reason="NoVpc")
        want, identifier = self._desired(target, steps), self.identifier(target)
        if database_spec(target).restore is None:
            self.rds.create_cluster(identifier, create_request(want))
            return
        restore = steps.get_step(RestoreObservation)
        source = restore.source if restore is not None else None
        if source is None:
            raise RecoverableError("cluster: the restore source is not resolved yet; observing again")
        if source.snapshot is not None:
            self.rds.restore_from_snapshot(identifier, source.snapshot, restore_request(want, from_snapshot=True))
        else:
            request = restore_request(want, from_snapshot=False)
            self.rds.restore_to_point_in_time(identifier, str(source.source_cluster), request, time=source.time)

    def update(self, target: Target, steps: Steps, observed: ClusterObservation) -> None:
        cluster, plan = _current(observed)
        if plan.changes:
            self.rds.modify_cluster(cluster.identifier, plan.changes)
        self.rds.remove_tags(cluster.arn, plan.tags_to_remove)
        self.rds.add_tags(cluster.arn, plan.tags_to_set)

    def delete(self, target: Target, steps: Steps, observed: ClusterObservation, policy: DeletionPolicy) -> None:
        cluster, _ = _current(observed)
        if policy not in ("Snapshot", "Delete"):
            raise TerminalError(f"deletionPolicy {policy} keeps the cluster; nothing to delete", reason="Retained")
        if cluster.deletion_protection:
            self.rds.modify_cluster(cluster.identifier, {"DeletionProtection": False})
            return  # the cluster goes modifying; the next pass deletes it
        snapshot = names(target, self.name_prefix).final_snapshot(target.uid) if policy == "Snapshot" else None
        self.rds.delete_cluster(cluster.identifier, final_snapshot=snapshot)

    def _after_deletion(self, target: Target, identifier: str) -> ClusterObservation:
        """The cluster is gone: its final snapshot must be ``available`` before the finalizer goes.

        AWS keeps a cluster until its final snapshot is done; this checks it rather than trusting it.
        """
        final = names(target, self.name_prefix).final_snapshot(target.uid)
        gone = {"clusterIdentifier": identifier}
        try:
            snapshot = self.rds.describe_cluster_snapshot(final)
        except NotFoundError:
            if target.recorded.text("clusterArn"):
                log.warning("cluster %s is gone and its final snapshot %s does not exist", identifier, final)
            return ClusterObservation(exists=False, up_to_date=False, outputs=gone)
        status = str(snapshot.get("Status", "unknown"))
        if status == "available":
            log.info("cluster %s is gone; its data is kept in final snapshot %s", identifier, final)
            target.events.emit(
                "Normal", "FinalSnapshotTaken", f"cluster {identifier} is gone; its data is kept in {final}"
            )
            return ClusterObservation(exists=False, up_to_date=False, outputs=gone)
        if status == "failed":
            raise TerminalError(
                f"final snapshot {final} failed; the finalizer stays until it is resolved in AWS",
                reason="FinalSnapshotFailed",
            )
        progress = snapshot.get("PercentProgress")
        shown = f"{status}, {progress}%" if progress is not None else status
        return ClusterObservation(exists=False, up_to_date=False, pending=f"final snapshot {final} is {shown}")

    def _desired(self, target: Target, steps: Steps) -> ClusterState:
        spec = database_spec(target)
        key_arn = None
        if spec.kms_key_id is not None:
            key_arn = spec_key_arn(self.kms, "spec.kmsKeyId", spec.kms_key_id)
        return desired_cluster(
            spec,
            subnet_group=names(target, self.name_prefix).subnet_group,
            security_group_ids=_security_groups(steps),
            kms_key_arn=key_arn,
            tags=desired_tags(target),
        )


def _security_groups(steps: Steps) -> tuple[str, ...]:
    groups = steps.get_step(SecurityGroupObservation)
    return groups.group_ids if groups else ()


def _current(observed: ClusterObservation) -> tuple[ObservedCluster, ClusterPlan]:
    if observed.cluster is None or observed.plan is None:
        raise RecoverableError("cluster: stale observation; observing again")
    return observed.cluster, observed.plan


def _outputs(have: ObservedCluster, restored: dict[str, Any] | None) -> dict[str, Any]:
    scaling = have.scaling
    created = restored.get("ClusterCreateTime") if restored is not None else None
    extra = {"restoredFrom": {"restoredAt": _rfc3339(created)}} if created is not None else {}
    return {
        **extra,
        "clusterIdentifier": have.identifier,
        "clusterArn": have.arn,
        "engineVersion": have.engine_version,
        "port": have.port,
        "masterUserSecretArn": have.secret_arn,
        "endpoints": {"writer": have.endpoint, "reader": have.reader_endpoint},
        "capacity": {
            "minACU": scaling.min_acu if scaling else None,
            "maxACU": scaling.max_acu if scaling else None,
            "autoPauseSeconds": scaling.auto_pause if scaling and scaling.min_acu == 0 else None,
        },
    }


def _rfc3339(moment: Any) -> str:
    return moment.isoformat() if isinstance(moment, datetime) else str(moment)
