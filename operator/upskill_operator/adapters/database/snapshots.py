"""On-demand cluster snapshots (``spec.snapshots``): declared in Git, taken once, listed in status.

Each entry ``{name: before-0005}`` is a manual snapshot ``<cluster>-<name>``, tagged as the database's
own objects are plus ``upskill.io/snapshot: <name>``. Observe is one DescribeDBClusterSnapshots of the
cluster's manual snapshots; entries with no snapshot yet are taken in one update. ``status.snapshots``
lists every snapshot of ours with its state and progress, dropped entries included.

Data is never deleted by a spec edit: removing an entry keeps its snapshot (the step never retires
anything). On finalize, ``deletionPolicy: Delete`` deletes the database's manual snapshots (not the
final snapshot, which only ``Snapshot`` takes); ``Snapshot`` and ``Retain`` keep them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from upskill_operator.adapters.database.cluster import ClusterObservation
from upskill_operator.adapters.database.common import database_spec, desired_tags, names
from upskill_operator.aws.rds import Rds
from upskill_operator.errors import NotFoundError, TerminalError
from upskill_operator.models.tags import OWNER_TAG, tag_dict
from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Steps, Target

__all__ = ["SNAPSHOT_TAG", "SnapshotsAdapter", "SnapshotsObservation"]

SNAPSHOT_TAG = "upskill.io/snapshot"
"""The spec.snapshots name a manual snapshot was taken for."""


@dataclass(frozen=True)
class SnapshotsObservation(Observation):
    missing: tuple[tuple[str, str], ...] = ()
    """(name, identifier) of the entries with no snapshot yet."""
    ours: tuple[str, ...] = ()
    """Identifiers of the manual snapshots of ours (what deletionPolicy Delete deletes)."""


_NOTHING = SnapshotsObservation(exists=False, up_to_date=True)


def _shown(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    created = snapshot.get("SnapshotCreateTime")
    return {
        "name": tag_dict(snapshot.get("TagList")).get(SNAPSHOT_TAG),
        "identifier": snapshot.get("DBClusterSnapshotIdentifier"),
        "state": snapshot.get("Status"),
        "percent": snapshot.get("PercentProgress"),
        "createdAt": created.isoformat() if isinstance(created, datetime) else created,
    }


class SnapshotsAdapter:
    """Implements the reconcile ``Adapter`` protocol for the database's on-demand snapshots."""

    name = "snapshots"
    owner_field: str | None = None  # each snapshot's owner tag is checked here, one by one

    def __init__(self, rds: Rds, name_prefix: str) -> None:
        self.rds = rds
        self.name_prefix = name_prefix

    def wanted(self, target: Target, steps: Steps) -> bool:
        return True  # never retired: a dropped entry keeps its snapshot

    def observe(self, target: Target, steps: Steps) -> SnapshotsObservation:
        spec = database_spec(target)
        deleting_them = target.deleting and target.deletion_policy == "Delete"
        if not spec.snapshots and not deleting_them:
            return _NOTHING  # costs no call for a database that asks for none
        cluster = names(target, self.name_prefix).cluster
        try:
            listed = self.rds.list_cluster_snapshots(cluster)
        except NotFoundError:
            listed = []
        mine = [
            s
            for s in listed
            if s.get("SnapshotType") == "manual"
            and target.is_ours(tag_dict(s.get("TagList")).get(OWNER_TAG))
            and SNAPSHOT_TAG in tag_dict(s.get("TagList"))
        ]
        ours = tuple(str(s["DBClusterSnapshotIdentifier"]) for s in mine)
        if target.deleting:
            return SnapshotsObservation(exists=deleting_them and bool(ours), ours=ours)
        taken = {str(s.get("DBClusterSnapshotIdentifier")) for s in listed}
        wanted = [(entry.name, f"{cluster}-{entry.name}") for entry in spec.snapshots]
        foreign = [ident for _, ident in wanted if ident in taken and ident not in ours]
        if foreign:
            raise TerminalError(
                f"spec.snapshots: snapshot {foreign[0]!r} exists and is not this database's; choose another name",
                reason="ForeignOwner",
            )
        missing = tuple((name, ident) for name, ident in wanted if ident not in taken)
        seen = steps.get_step(ClusterObservation)
        state = seen.cluster.status if seen is not None and seen.cluster is not None else "absent"
        pending = f"cluster is {state}; the snapshots wait" if missing and state != "available" else None
        return SnapshotsObservation(
            exists=True,
            up_to_date=not missing,
            diff=tuple(f"spec.snapshots[{name}]" for name, _ in missing),
            pending=pending,
            outputs={"snapshots": sorted((_shown(s) for s in mine), key=lambda s: str(s["identifier"]))},
            missing=missing,
            ours=ours,
        )

    def create(self, target: Target, steps: Steps) -> None:
        raise AssertionError("snapshots: the step reports an existing set, never an absent one")

    def update(self, target: Target, steps: Steps, observed: SnapshotsObservation) -> None:
        cluster = names(target, self.name_prefix).cluster
        for name, identifier in observed.missing:
            self.rds.create_cluster_snapshot(cluster, identifier, {**desired_tags(target), SNAPSHOT_TAG: name})

    def delete(self, target: Target, steps: Steps, observed: SnapshotsObservation, policy: DeletionPolicy) -> None:
        if policy != "Delete":
            return
        for identifier in observed.ours:
            try:
                self.rds.delete_cluster_snapshot(identifier)
            except NotFoundError:
                continue
