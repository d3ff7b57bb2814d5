"""Our DynamoDB extension of moto 5.2.5, for the tests: what AWS keeps of a deleted table, and whose backups are listed.

:func:`install` replaces two methods of moto's DynamoDB backend and handler in this process (the moto
server is a thread of it); requests still go through botocore's serialisation and moto's HTTP
dispatch. The operator never imports this module.

What is emulated, exactly:

- ``DeleteTable`` of a table with point-in-time recovery on leaves a system backup, as AWS does
  (retained 35 days): ``BackupType`` ``SYSTEM``, named ``<table>$DeletedTableBackup``, AVAILABLE.
  moto kept nothing, so a deleted table could never be restored from it.
- ``ListBackups`` honours ``BackupType``: ``USER`` (AWS's default), ``SYSTEM``, ``AWS_BACKUP`` or
  ``ALL``. moto listed every backup whatever was asked.
- Restores that carry the items as of their time, and backups that take time: :mod:`.dynamodb_restore`.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Backup
from moto.dynamodb.responses import DynamoHandler, DynamoResult

from upskill_sandbox import dynamodb_restore

__all__ = ["DELETED_TABLE_BACKUP", "install"]

DELETED_TABLE_BACKUP = "{table}$DeletedTableBackup"

_LOCK = threading.Lock()
_installed = False
_original_delete_table = DynamoDBBackend.delete_table


def _pitr_on(table: Any) -> bool:
    described = getattr(table, "continuous_backups", {}).get("PointInTimeRecoveryDescription", {})
    return bool(described.get("PointInTimeRecoveryStatus") == "ENABLED")


def _delete_table(self: Any, name: str) -> Any:
    table = self.get_table(name)
    deleted = _original_delete_table(self, name)  # moto's checks (deletion protection) come first
    if _pitr_on(table):
        backup = Backup(
            self.account_id, self.region_name, DELETED_TABLE_BACKUP.format(table=table.name), table, type_="SYSTEM"
        )
        self.backups[backup.arn] = backup
    return deleted


def _list_backups(self: Any) -> Any:
    wanted = self.body.get("BackupType") or "USER"
    backups = self.dynamodb_backend.list_backups(self.body.get("TableName"))
    listed = [b.summary for b in backups if wanted == "ALL" or b.type == wanted]
    return DynamoResult({"BackupSummaries": listed})


def install() -> None:
    """Patch moto's DynamoDB backend and handler in this process (idempotent)."""
    global _installed
    with _LOCK:
        if _installed:
            return
        DynamoDBBackend.delete_table = _delete_table  # type: ignore[method-assign]
        DynamoHandler.list_backups = _list_backups  # type: ignore[method-assign]
        dynamodb_restore.install()  # wraps the ListBackups above: install it second
        _installed = True
