"""Pure checks of a restore source (``spec.restore``) against what RDS reports of it.

The restore step (:mod:`.restore_source`) describes the snapshot or source cluster and asks these
functions what is wrong; every problem names the spec field and what to do. Kept pure so each rule
has a unit test without AWS.

- Ownership: a snapshot or cluster tagged for another namespace is never restored (its data is that
  team's); an untagged one only within the namespace's adoption grants (``UPSKILL_ADOPT_SCOPES``).
- Engine: ``aurora-postgresql`` only; the snapshot's major version must be spec.engineVersion's, and
  spec.engineVersion must not be lower (AWS restores to the same or a newer minor only).
- The master user name travels with the data (RDS takes none on restore): spec.masterUser.username
  must be the source's, or the cluster would be in conflict with its spec right after the restore.
- A point in time must lie inside the source's [EarliestRestorableTime, LatestRestorableTime].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from upskill_operator.adapters.database.cluster_plan import ClusterState, create_request, version
from upskill_operator.aws.rds import ENGINE
from upskill_operator.models.tags import OWNER_TAG, tag_dict

__all__ = [
    "RestoreSource",
    "newest_final_snapshot",
    "restore_request",
    "source_problems",
    "time_problem",
]


@dataclass(frozen=True)
class RestoreSource:
    """What the cluster is restored from, resolved in AWS."""

    snapshot: str | None = None
    source_cluster: str | None = None
    time: datetime | None = None
    """None with ``source_cluster``: the latest restorable time."""

    def status(self) -> dict[str, Any]:
        """``status.restoredFrom`` (wire names)."""
        if self.snapshot is not None:
            return {"snapshot": self.snapshot}
        return {"sourceCluster": self.source_cluster, "time": self.time.isoformat() if self.time else "latest"}


def _aware(moment: Any) -> datetime | None:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if isinstance(moment, str) and moment:
        return _aware(datetime.fromisoformat(moment.replace("Z", "+00:00")))
    return None


def newest_final_snapshot(
    snapshots: Sequence[Mapping[str, Any]], owner: str
) -> tuple[Mapping[str, Any] | None, str | None]:
    """(the newest ``available`` final snapshot tagged ``owner``, a wait message when only unfinished ones exist).

    Final snapshots are the ones the operator names ``<cluster>-final-<uid8>``; any other manual
    snapshot of the same owner is ignored here (``fromSnapshot.identifier`` names those).
    """
    finals = [
        s
        for s in snapshots
        if "-final-" in str(s.get("DBClusterSnapshotIdentifier") or "")
        and tag_dict(s.get("TagList")).get(OWNER_TAG) == owner
    ]
    ready = [s for s in finals if s.get("Status") == "available"]
    if ready:
        epoch = datetime.min.replace(tzinfo=UTC)
        return max(ready, key=lambda s: _aware(s.get("SnapshotCreateTime")) or epoch), None
    unfinished = [s for s in finals if s.get("Status") in ("creating", "copying")]
    if unfinished:
        return None, f"final snapshot {unfinished[0]['DBClusterSnapshotIdentifier']} is {unfinished[0]['Status']}"
    return None, None


def source_problems(
    field: str,
    described: Mapping[str, Any],
    *,
    engine_version: str,
    master_username: str,
    encrypted: bool = True,
    kms_key: str | None = None,
) -> list[str]:
    """Engine, version, master user and encryption checks of a snapshot or source cluster as RDS described it.

    Encryption: an encrypted source restores encrypted (with its key, or the spec's); an unencrypted one
    restores unencrypted unless a key is given (``spec.kmsKeyId``), which encrypts the copy.
    """
    problems: list[str] = []
    source_encrypted = bool(described.get("StorageEncrypted"))
    if source_encrypted and not encrypted:
        problems.append(f"{field}: the source is encrypted; spec.storageEncrypted: false cannot restore it")
    elif encrypted and not source_encrypted and kms_key is None:
        problems.append(
            f"{field}: the source is not encrypted; set spec.kmsKeyId to encrypt the restored copy, "
            "or spec.storageEncrypted: false"
        )
    engine = str(described.get("Engine") or "")
    if engine != ENGINE:
        problems.append(f"{field}: the source's engine is {engine or 'unknown'}; only {ENGINE} is restored")
    have = str(described.get("EngineVersion") or "")
    (want_major, _), (have_major, _) = version(engine_version), version(have)
    if want_major != have_major:
        problems.append(
            f"{field}: the source runs {ENGINE} {have}, spec.engineVersion {engine_version} is another major "
            "(restore to the source's major, then upgrade)"
        )
    elif version(engine_version) < version(have):
        problems.append(f"{field}: the source runs {have}; spec.engineVersion {engine_version} would be a downgrade")
    user = described.get("MasterUsername")
    if user and user != master_username:
        problems.append(
            f"{field}: the source's master user is {user!r}; set spec.masterUser.username to it "
            "(the master user travels with the data)"
        )
    return problems


def time_problem(field: str, wanted: datetime, cluster: Mapping[str, Any]) -> str | None:
    """Why ``wanted`` cannot be restored from the source ``cluster`` (None: inside its window)."""
    earliest, latest = _aware(cluster.get("EarliestRestorableTime")), _aware(cluster.get("LatestRestorableTime"))
    if earliest is None or latest is None:
        return f"{field}: the source reports no restorable window (are its automated backups on?)"
    if not earliest <= wanted <= latest:
        return (
            f"{field}: {wanted.isoformat()} is outside the source's restorable window "
            f"({earliest.isoformat()} to {latest.isoformat()})"
        )
    return None


_NOT_ON_RESTORE = (
    "DatabaseName",
    "MasterUsername",
    "ManageMasterUserPassword",
    "MasterUserSecretKmsKeyId",
    "StorageEncrypted",
)
"""CreateDBCluster arguments the restore calls do not take: the database, the master user and the encryption
travel with the data; the RDS-managed master secret is turned on by the first update (ModifyDBCluster)."""


def restore_request(want: ClusterState, *, from_snapshot: bool) -> dict[str, Any]:
    """RestoreDBClusterFromSnapshot / ToPointInTime arguments besides the identifiers: what those calls accept
    of :func:`create_request` (a point-in-time restore takes no EngineVersion: the source's version comes
    along and the update path upgrades a lower minor)."""
    request = {k: v for k, v in create_request(want).items() if k not in _NOT_ON_RESTORE}
    if not from_snapshot:
        request.pop("EngineVersion", None)
    return request
