"""What is left of a data-bearing object that is gone: facts for the engine's ``DataObjectGone`` (pure).

Each kind names its latest copy and the AWS call that restores it, or says that there is none:

- an Aurora cluster: its latest snapshot (automated, manual, or the final ``<cluster>-final-<uid8>``),
  from DescribeDBClusterSnapshots of that cluster identifier; RestoreDBClusterFromSnapshot restores it;
- a DynamoDB table: its latest backup (on-demand, the system backup AWS takes when a table with
  point-in-time recovery is deleted, or AWS Backup's), from ListBackups of that table;
  RestoreTableFromBackup restores it;
- a Secrets Manager secret: AWS keeps nothing once it is gone (a secret only scheduled for deletion
  is not gone: the adapter restores it with RestoreSecret).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from upskill_operator.reconcile.protocol import Gone

__all__ = ["cluster_gone", "secret_gone", "table_gone"]


def _when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value or "unknown time")


def _instant(value: Any) -> dt.datetime:
    """For ordering, at full precision (two snapshots often share a second); unknown times sort first."""
    return value.astimezone(dt.UTC) if isinstance(value, dt.datetime) else dt.datetime.min.replace(tzinfo=dt.UTC)


def _latest(items: Iterable[Mapping[str, Any]], time_key: str, status_key: str, ready: str) -> Mapping[str, Any] | None:
    """The newest item that is ready, else the newest of any status."""
    ordered = sorted(items, key=lambda item: _instant(item.get(time_key)), reverse=True)
    usable = [item for item in ordered if str(item.get(status_key, "")).lower() == ready]
    found = usable or ordered
    return found[0] if found else None


def cluster_gone(identifier: str, snapshots: Iterable[Mapping[str, Any]]) -> Gone:
    latest = _latest(snapshots, "SnapshotCreateTime", "Status", "available")
    if latest is None:
        remains = "no snapshot of it exists, so its data cannot be restored"
    else:
        name = latest.get("DBClusterSnapshotIdentifier")
        kind, status = latest.get("SnapshotType", "snapshot"), latest.get("Status", "unknown")
        remains = (
            f"its latest snapshot is {name} ({kind}, {status}, taken {_when(latest.get('SnapshotCreateTime'))}): "
            f"restore it with RestoreDBClusterFromSnapshot as {identifier}"
        )
    return Gone("DB cluster", identifier, remains)


def table_gone(name: str, backups: Iterable[Mapping[str, Any]]) -> Gone:
    latest = _latest(backups, "BackupCreationDateTime", "BackupStatus", "available")
    if latest is None:
        remains = "no backup of it exists, so its data cannot be restored"
    else:
        kind, status = latest.get("BackupType", "USER"), latest.get("BackupStatus", "unknown")
        remains = (
            f"its latest backup is {latest.get('BackupName')} ({kind}, {status}, "
            f"taken {_when(latest.get('BackupCreationDateTime'))}, {latest.get('BackupArn')}): "
            f"restore it with RestoreTableFromBackup as {name}"
        )
    return Gone("DynamoDB table", name, remains)


def secret_gone(name: str) -> Gone:
    remains = (
        "Secrets Manager keeps nothing of a secret deleted without a recovery window, or past it "
        "(RestoreSecret only works while a deletion is scheduled), so its value cannot be restored"
    )
    return Gone("secret", name, remains)
