"""The DynamoDB backup and restore façade: on-demand backups, and the two restores that create a table.

Kept apart from :mod:`.dynamodb` (the table's own control plane) because only a restore or a
``spec.backups`` entry calls these, and because their IAM needs differ: a restore writes the items
of the new table, so AWS authorises the item-level actions on the target along with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from upskill_operator.aws.base import Facade

__all__ = ["DynamoDBBackups"]

AwsDict = dict[str, Any]


class DynamoDBBackups(Facade):
    """Typed CreateBackup, DescribeBackup, DeleteBackup, ListBackups and the two restores."""

    service = "dynamodb"
    iam_prefix = "dynamodb"
    operations = frozenset(
        {
            "CreateBackup",
            "DeleteBackup",
            "DescribeBackup",
            "ListBackups",
            "RestoreTableFromBackup",
            "RestoreTableToPointInTime",
        }
    )

    def list_user_backups(self, table_name: str) -> list[AwsDict]:
        """The on-demand (``USER``) backups of a table, also of one that is gone."""
        cursor = ("LastEvaluatedBackupArn", "ExclusiveStartBackupArn")
        return self.pages("ListBackups", "BackupSummaries", cursor, TableName=table_name, BackupType="USER")

    def list_all_backups(self) -> list[AwsDict]:
        """Every backup of the account and region (on-demand and system), to find one by name."""
        cursor = ("LastEvaluatedBackupArn", "ExclusiveStartBackupArn")
        return self.pages("ListBackups", "BackupSummaries", cursor, BackupType="ALL")

    def create_backup(self, table_name: str, backup_name: str) -> AwsDict:
        """Start an on-demand backup; returns its ``BackupDetails`` (CREATING, then AVAILABLE)."""
        details: AwsDict = self.call("CreateBackup", TableName=table_name, BackupName=backup_name)["BackupDetails"]
        return details

    def describe_backup(self, backup_arn: str) -> AwsDict:
        """The ``BackupDescription`` (``BackupDetails`` and ``SourceTableDetails``); NotFound when absent."""
        description: AwsDict = self.call("DescribeBackup", BackupArn=backup_arn)["BackupDescription"]
        return description

    def delete_backup(self, backup_arn: str) -> None:
        """Delete one backup (what deletionPolicy Delete does to the resource's backups)."""
        self.call("DeleteBackup", BackupArn=backup_arn)

    def restore_to_point_in_time(
        self,
        target_table_name: str,
        source_table_name: str,
        *,
        at: dt.datetime | None,
        global_indexes: Sequence[Mapping[str, Any]],
        sse: Mapping[str, Any] | None,
    ) -> AwsDict:
        """RestoreTableToPointInTime (``at`` None: the latest restorable time), on demand, with the spec's
        indexes and encryption as overrides; returns the new ``TableDescription`` (CREATING)."""
        params: AwsDict = {
            "SourceTableName": source_table_name,
            "TargetTableName": target_table_name,
            "BillingModeOverride": "PAY_PER_REQUEST",
            "GlobalSecondaryIndexOverride": list(global_indexes),
            "SSESpecificationOverride": dict(sse or {"Enabled": False}),
        }
        if at is None:
            params["UseLatestRestorableTime"] = True
        else:
            params["RestoreDateTime"] = at
        description: AwsDict = self.call("RestoreTableToPointInTime", **params)["TableDescription"]
        return description

    def restore_from_backup(
        self,
        target_table_name: str,
        backup_arn: str,
        *,
        global_indexes: Sequence[Mapping[str, Any]],
        sse: Mapping[str, Any] | None,
    ) -> AwsDict:
        """RestoreTableFromBackup, on demand, with the spec's indexes and encryption as overrides."""
        description: AwsDict = self.call(
            "RestoreTableFromBackup",
            TargetTableName=target_table_name,
            BackupArn=backup_arn,
            BillingModeOverride="PAY_PER_REQUEST",
            GlobalSecondaryIndexOverride=list(global_indexes),
            SSESpecificationOverride=dict(sse or {"Enabled": False}),
        )["TableDescription"]
        return description
