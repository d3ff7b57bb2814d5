"""What the DataObjectGone message names: the latest usable copy, or that none exists (pure)."""

from __future__ import annotations

import datetime as dt

from upskill_operator.adapters.shared.data_gone import cluster_gone, secret_gone, table_gone


def at(day: int) -> dt.datetime:
    return dt.datetime(2026, 12, day, 3, 0, tzinfo=dt.UTC)


def test_the_latest_available_cluster_snapshot_is_named_with_how_to_restore_it() -> None:
    snapshots = [
        {
            "DBClusterSnapshotIdentifier": "old",
            "SnapshotType": "manual",
            "Status": "available",
            "SnapshotCreateTime": at(1),
        },
        {
            "DBClusterSnapshotIdentifier": "c-final-1234abcd",
            "SnapshotType": "manual",
            "Status": "available",
            "SnapshotCreateTime": at(2),
        },
        {
            "DBClusterSnapshotIdentifier": "broken",
            "SnapshotType": "manual",
            "Status": "failed",
            "SnapshotCreateTime": at(3),
        },
    ]
    gone = cluster_gone("c", snapshots)
    assert (gone.what, gone.name) == ("DB cluster", "c")
    assert "latest snapshot is c-final-1234abcd (manual, available, taken 2026-12-02T03:00:00Z)" in gone.remains
    assert "RestoreDBClusterFromSnapshot as c" in gone.remains
    assert "no snapshot" in cluster_gone("c", []).remains


def test_the_latest_available_table_backup_is_named_with_its_arn() -> None:
    backups = [
        {
            "BackupName": "nightly",
            "BackupArn": "arn:b1",
            "BackupType": "USER",
            "BackupStatus": "AVAILABLE",
            "BackupCreationDateTime": at(2),
        },
        {
            "BackupName": "making",
            "BackupArn": "arn:b2",
            "BackupType": "USER",
            "BackupStatus": "CREATING",
            "BackupCreationDateTime": at(4),
        },
    ]
    gone = table_gone("t", backups)
    assert "latest backup is nightly (USER, AVAILABLE, taken 2026-12-02T03:00:00Z, arn:b1)" in gone.remains
    assert "RestoreTableFromBackup as t" in gone.remains
    assert "no backup" in table_gone("t", []).remains


def test_a_gone_secret_has_nothing_to_restore() -> None:
    gone = secret_gone("upskill/ns/s")
    assert (gone.what, gone.name) == ("secret", "upskill/ns/s")
    assert "cannot be restored" in gone.remains
