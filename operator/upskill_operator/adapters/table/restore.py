"""A table's creation by restore: resolve and check the source (reads only), then one restore call.

Called by :meth:`TableAdapter.create` when ``spec.restore`` is set, in place of CreateTable. Every
refusal is raised before the restore call, so an invalid source makes zero AWS writes:

- Terminal: the source table or backup does not exist, belongs to no resource of this namespace
  (its owner tag), has PITR off, the time is outside its window, or the key schema differs;
- Recoverable: the backup is still CREATING (the next pass tries again).

The restore call takes no tags, so the table is tagged right after it. A crash in between leaves a
table with our derived name and no tags; :func:`.restore_plan.made_by_restore` lets the next pass
claim it (inside the adoption scope only) and tag it, instead of asking for ``spec.adopt``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from upskill_operator.adapters.shared.naming import aws_name
from upskill_operator.adapters.shared.restore_source import INVALID, NOT_FOUND, refuse, source_owner_problem
from upskill_operator.adapters.table.restore_plan import (
    backup_name,
    backup_problem,
    index_overrides,
    keys_problem,
    made_by_restore,
    window_problem,
)
from upskill_operator.adapters.table.state import TableState
from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.dynamodb_backups import DynamoDBBackups
from upskill_operator.errors import NotFoundError, RecoverableError, TerminalError
from upskill_operator.models.table_restore import BackupSource, PointInTimeSource, RestoreSpec, parse_time
from upskill_operator.reconcile.protocol import Target

__all__ = ["Restorer"]

AwsDict = dict[str, Any]
_TABLE_NAME_MAX = 255


def _sse(desired: TableState) -> AwsDict | None:
    return {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": desired.kms_key} if desired.kms_key else None


class Restorer:
    """Makes a table from ``spec.restore``; the reads it needs are of the source only."""

    def __init__(self, dynamodb: DynamoDB, backups: DynamoDBBackups, name_prefix: str) -> None:
        self.dynamodb = dynamodb
        self.backups = backups
        self.name_prefix = name_prefix

    def restore(self, target: Target, restore: RestoreSpec, desired: TableState) -> AwsDict:
        """Check the source, restore into ``desired.name``, tag it; returns the new TableDescription."""
        if restore.point_in_time is not None:
            created = self._point_in_time(target, restore.point_in_time, desired)
        elif restore.from_backup is not None:
            created = self._from_backup(target, restore.from_backup, desired)
        else:  # the model refuses a restore without a source
            raise TerminalError("spec.restore: give pointInTime or fromBackup", reason=INVALID)
        self.dynamodb.tag_resource(created["TableArn"], desired.tags)
        return created

    def made_this(self, target: Target, restore: RestoreSpec, table: Mapping[str, Any]) -> bool:
        """The untagged ``table`` is what :meth:`restore` makes for this spec: its RestoreSummary names the
        spec's very source (the source table's name, or the backup's ARN). Reads only, and only for an
        untagged table (a crash between the restore call and TagResource)."""
        if not made_by_restore(restore, table):
            return False
        summary = table["RestoreSummary"]
        if restore.point_in_time is not None:
            return str(summary.get("SourceTableArn", "")).endswith(
                f":table/{self._source_name(target, restore.point_in_time)}"
            )
        if restore.from_backup is None:
            return False
        try:
            return bool(summary.get("SourceBackupArn") == self._backup_arn(target, restore.from_backup))
        except TerminalError:
            return False

    def source_name(self, target: Target, restore: RestoreSpec) -> str | None:
        """The DynamoDB name of the spec's point-in-time source (None for a restore from backup)."""
        return None if restore.point_in_time is None else self._source_name(target, restore.point_in_time)

    def _source_name(self, target: Target, source: PointInTimeSource) -> str:
        return source.source_table_name or aws_name(
            self.name_prefix, target.namespace, str(source.source_table), max_length=_TABLE_NAME_MAX
        )

    def _source(self, field: str, name: str) -> tuple[AwsDict, Mapping[str, str]]:
        try:
            table = self.dynamodb.describe_table(name)
        except NotFoundError:
            raise TerminalError(f"{field}: source table {name!r} does not exist", reason=NOT_FOUND) from None
        return table, self.dynamodb.list_tags_of_resource(table["TableArn"])

    def _point_in_time(self, target: Target, source: PointInTimeSource, desired: TableState) -> AwsDict:
        field = "spec.restore.pointInTime." + ("sourceTable" if source.source_table else "sourceTableName")
        name = self._source_name(target, source)
        table, tags = self._source(field, name)
        refuse([source_owner_problem(field, "table", name, tags, target)])
        at = parse_time(source.time) if source.time else None
        continuous = self.dynamodb.describe_continuous_backups(name)
        refuse([window_problem("spec.restore.pointInTime.time" if at else field, at, continuous)])
        refuse([keys_problem(field, desired.keys, table)])
        return self.backups.restore_to_point_in_time(
            desired.name, name, at=at, global_indexes=index_overrides(desired, table), sse=_sse(desired)
        )

    def _backup_arn(self, target: Target, source: BackupSource) -> str:
        if source.backup_arn is not None:
            return source.backup_arn
        if source.source_table is not None:  # one table's on-demand backups: a small listing
            field = "spec.restore.fromBackup.backup"
            table = aws_name(self.name_prefix, target.namespace, source.source_table, max_length=_TABLE_NAME_MAX)
            wanted = backup_name(table, str(source.backup))
            listed = self.backups.list_user_backups(table)
        else:  # a name alone may be any table's (or a deleted table's system backup): the account's listing
            field, wanted = "spec.restore.fromBackup.backupName", str(source.backup_name)
            listed = self.backups.list_all_backups()
        found = [b for b in listed if b.get("BackupName") == wanted]
        if not found:
            raise TerminalError(f"{field}: no backup is named {wanted!r}", reason=NOT_FOUND)
        if len(found) > 1:
            raise TerminalError(
                f"{field}: {len(found)} backups are named {wanted!r}; name one by backupArn",
                reason=INVALID,
            )
        return str(found[0]["BackupArn"])

    def _from_backup(self, target: Target, source: BackupSource, desired: TableState) -> AwsDict:
        field = "spec.restore.fromBackup." + (
            "backupArn" if source.backup_arn else "backup" if source.backup else "backupName"
        )
        arn = self._backup_arn(target, source)
        try:
            described = self.backups.describe_backup(arn)
        except NotFoundError:
            raise TerminalError(f"{field}: backup {arn!r} does not exist", reason=NOT_FOUND) from None
        details, table = described.get("BackupDetails") or {}, described.get("SourceTableDetails") or {}
        self._backup_owner(field, target, str(table.get("TableName")))
        problem = backup_problem(field, details)
        if problem is not None:
            message, wait = problem
            raise (RecoverableError(message, reason="BackupCreating") if wait else TerminalError(message))
        refuse([keys_problem(field, desired.keys, table)])
        return self.backups.restore_from_backup(
            desired.name,
            arn,
            global_indexes=index_overrides(desired, _with_indexes(table, described)),
            sse=_sse(desired),
        )

    def _backup_owner(self, field: str, target: Target, table_name: str) -> None:
        """The backup's table, if it still stands, must be tagged for this namespace; a deleted one's name must
        be one this namespace derives (``<prefix>-<namespace>-``): its tags are gone with it."""
        try:
            _, tags = self._source(field, table_name)
        except TerminalError:
            if not table_name.startswith(f"{self.name_prefix}-{target.namespace}-"):
                raise TerminalError(
                    f"{field}: the backup's table {table_name!r} is gone and its name is not one namespace "
                    f"{target.namespace!r} derives; refusing to restore another namespace's data",
                    reason=INVALID,
                ) from None
            return
        refuse([source_owner_problem(field, "table", table_name, tags, target)])


def _with_indexes(table: Mapping[str, Any], described: Mapping[str, Any]) -> AwsDict:
    """SourceTableDetails, with the backup's indexes (SourceTableFeatureDetails) in DescribeTable's shape."""
    features = described.get("SourceTableFeatureDetails") or {}
    indexes = [
        {**index, "IndexStatus": "ACTIVE"}
        for index in features.get("GlobalSecondaryIndexes") or table.get("GlobalSecondaryIndexes") or ()
    ]
    return {
        **table,
        "GlobalSecondaryIndexes": indexes,
        "TableArn": table.get("TableArn", ""),
        "TableName": table.get("TableName", "source"),
    }
