"""Final snapshots that take time, as AWS's do: a deleted cluster stays until its final snapshot is available.

AWS answers ``DeleteDBCluster`` with ``FinalDBSnapshotIdentifier`` at once, then shows the cluster
``deleting`` and the snapshot ``creating`` (``PercentProgress`` climbing) for minutes; the cluster,
and so its data, disappears only once the snapshot is ``available``. moto 5.2.5 makes the snapshot
``available`` and drops the cluster inside the call, so nothing could ever observe the window in
which the data exists only in a cluster being deleted.

What is emulated, exactly, when ``RdsEmulation.final_snapshot_describes`` is above 0 at the time of
the delete (0, the default, keeps moto's instant behaviour):

- the delete is checked and performed by moto (protection, members, snapshot name), then the cluster
  is put back, ``deleting``, and its final snapshot shown ``creating`` with 0 % progress;
- each describe covering them (``DescribeDBClusters`` of that cluster or of all clusters,
  ``DescribeDBClusterSnapshots`` of that snapshot, of that cluster or of all snapshots) counts one;
  once a describe finds as many counted as ``final_snapshot_describes`` says *now*, the snapshot is
  ``available`` (100 %) and the cluster is gone, before that describe answers. The knob is read on
  every describe, so a test may hold a snapshot with a large value and release it by setting 0;
- meanwhile ``ModifyDBCluster``, ``DeleteDBCluster`` and ``CreateDBInstance`` on the cluster answer
  ``InvalidDBClusterStateFault``, and its subnet group cannot be deleted (the cluster still uses it),
  as AWS refuses them.

The records live on the moto backend of the account and region, so ``/moto-api/reset`` clears them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from moto.core.responses import ActionResult
from moto.rds.exceptions import RDSClientError

from upskill_sandbox.rds_extension import ClusterExtension
from upskill_sandbox.rds_pending import LOCK

__all__ = ["FinalSnapshot", "SnapshotExtension", "make_rds_response"]

_ATTRIBUTE = "_upskill_final_snapshots"


@dataclass
class FinalSnapshot:
    """A final snapshot still being taken: its cluster, and the describes counted so far."""

    cluster: str
    counted: int = 0


def _finals(backend: Any) -> dict[str, FinalSnapshot]:
    """Snapshot identifier -> record, per moto backend."""
    found: dict[str, FinalSnapshot] = backend.__dict__.setdefault(_ATTRIBUTE, {})
    return found


class SnapshotExtension(ClusterExtension):
    """Clusters that wait for their final snapshot before they go."""

    def _final_describes(self) -> int:
        return int(getattr(self.emulation, "final_snapshot_describes", 0))

    def _refuse_if_deleting(self, identifier: str | None) -> None:
        wanted = (identifier or "").lower()
        if any(record.cluster.lower() == wanted for record in _finals(self.backend).values()):
            raise RDSClientError("InvalidDBClusterStateFault", f"DB cluster {identifier} is deleting.")

    def _tick(self, snapshots: Collection[str]) -> None:
        """Count one describe of these final snapshots; finish those that have waited long enough."""
        finals = _finals(self.backend)
        for name in list(snapshots):
            record = finals[name]
            snapshot = self.backend.cluster_snapshots.get(name)
            if record.counted >= self._final_describes() or snapshot is None:
                if snapshot is not None:
                    snapshot.status, snapshot.percent_progress = "available", 100
                self.backend.clusters.pop(record.cluster, None)
                del finals[name]
            else:
                record.counted += 1
                snapshot.percent_progress = min(99, 10 * record.counted)

    def delete_db_cluster(self) -> ActionResult:
        with LOCK:
            identifier = self.params.get("DBClusterIdentifier")
            self._refuse_if_deleting(identifier)
            final = self.params.get("FinalDBSnapshotIdentifier")
            if self.params.get("SkipFinalSnapshot") or not final or self._final_describes() <= 0:
                return super().delete_db_cluster()
            cluster = self._cluster(identifier)
            result = super().delete_db_cluster()  # moto's checks, its snapshot, and the cluster dropped
            snapshot = self.backend.cluster_snapshots[final]
            snapshot.status, snapshot.percent_progress = "creating", 0
            cluster.status = "deleting"
            self.backend.clusters[cluster.db_cluster_identifier] = cluster  # AWS keeps it until the snapshot is done
            _finals(self.backend)[final] = FinalSnapshot(cluster.db_cluster_identifier)
            return result

    def describe_db_clusters(self) -> ActionResult:
        with LOCK:
            wanted = (self.params.get("DBClusterIdentifier") or "").lower()
            finals = _finals(self.backend)
            self._tick([n for n, r in finals.items() if not wanted or r.cluster.lower() == wanted])
            return super().describe_db_clusters()

    def describe_db_cluster_snapshots(self) -> ActionResult:
        with LOCK:
            snapshot = self.params.get("DBClusterSnapshotIdentifier")
            cluster = (self.params.get("DBClusterIdentifier") or "").lower()
            finals = _finals(self.backend)
            self._tick(
                [
                    name
                    for name, record in finals.items()
                    if (not snapshot or name == snapshot) and (not cluster or record.cluster.lower() == cluster)
                ]
            )
            return super().describe_db_cluster_snapshots()

    def modify_db_cluster(self) -> ActionResult:
        with LOCK:
            self._refuse_if_deleting(self.params.get("DBClusterIdentifier"))
            return super().modify_db_cluster()

    def create_db_instance(self) -> ActionResult:
        with LOCK:
            self._refuse_if_deleting(self.params.get("DBClusterIdentifier"))
            return super().create_db_instance()


def make_rds_response(emulation: Any) -> type[SnapshotExtension]:
    """The response class one server uses, bound to that server's :class:`~.moto_app.RdsEmulation`."""
    return type("UpskillRDSResponse", (SnapshotExtension,), {"emulation": emulation})
