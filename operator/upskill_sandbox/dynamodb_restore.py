"""DynamoDB restores that carry the right items, for the tests: moto 5.2.5's restores, made faithful.

moto's ``RestoreTableToPointInTime`` copies the source's *current* items whatever time is asked,
never checks that PITR is on or that the time is inside a window (its ``LatestRestorableDateTime``
stays the time PITR was enabled), ignores ``SourceTableArn`` and every override; its backups are
AVAILABLE at once and a restore from one never waits. :func:`install` replaces moto's handler
methods in this process (the moto server is a thread of it): requests still go through botocore's
serialisation and moto's HTTP dispatch, and errors come back as AWS's error codes.

What is emulated, exactly:

- **An item journal per table with PITR on.** Every write request (PutItem, UpdateItem, DeleteItem,
  BatchWriteItem, TransactWriteItems, ExecuteStatement, BatchExecuteStatement, ExecuteTransaction)
  runs under one lock, then the items of each table it names (each PITR table, for PartiQL) are
  recorded with the time the write completed. Enabling PITR records the items then; disabling it
  drops the journal (AWS resets the window); DeleteTable drops it too.
- **The window.** ``EarliestRestorableDateTime`` is when PITR was enabled (or now minus the
  recovery period, if later); ``LatestRestorableDateTime`` is now minus :data:`LAG` seconds (AWS:
  about 5 minutes), never before the earliest. DescribeContinuousBackups reports both, live.
- **RestoreTableToPointInTime** by ``SourceTableName`` or ``SourceTableArn``: the source must exist
  (``SourceTableNotFoundException``) and have PITR on (``PointInTimeRecoveryUnavailableException``);
  ``RestoreDateTime`` must be inside the window (``InvalidRestoreTimeException``);
  ``UseLatestRestorableTime`` takes the latest. The new table holds exactly the items the source held
  at that time, as of the last write completed at or before it (request granularity).
- **RestoreTableFromBackup**: moto's backup already copies the table when it is made, so the new table
  holds the items at backup time; a backup still CREATING answers ``BackupInUseException``.
- **Both restores** refuse an existing target (``TableAlreadyExistsException``) and apply
  ``BillingModeOverride`` (else the source's billing mode), ``SSESpecificationOverride`` (else none)
  and ``GlobalSecondaryIndexOverride`` (only the source's indexes, by name; ``ValidationException``
  for one the source lacks); the new table has no tags, stream, TTL or PITR, as in AWS.
- **Backups CREATING**: with :data:`BACKUP_CREATING_DESCRIBES` above 0 when CreateBackup runs, the
  backup shows CREATING for that many DescribeBackup/ListBackups answers, then AVAILABLE, and a
  second CreateBackup of its table meanwhile answers ``BackupInUseException``. ``BackupSizeBytes``
  stays moto's constant 123.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.exceptions import (
    ERROR_TYPE_PREFIX,
    MockValidationException,
    PointInTimeRecoveryUnavailable,
    SourceTableNotFoundException,
    TableAlreadyExistsException,
)
from moto.dynamodb.models.table import RestoredPITTable, RestoredTable
from moto.dynamodb.responses import DynamoHandler, DynamoResult

__all__ = ["BACKUP_CREATING_DESCRIBES", "LAG", "install", "journal_of"]

LAG = 1.0
"""Seconds between now and LatestRestorableDateTime (AWS: about 300). Tests may change it."""
BACKUP_CREATING_DESCRIBES = 0
"""Describes a new backup stays CREATING (0: AVAILABLE at once, moto's behaviour). Tests may change it."""

_WRITES = (
    "put_item",
    "update_item",
    "delete_item",
    "batch_write_item",
    "transact_write_items",
    "execute_statement",
    "batch_execute_statement",
    "execute_transaction",
)
_LOCK = threading.RLock()
_installed = False
_ATTRIBUTE = "_upskill_item_journal"
_CREATING = "_upskill_backups_creating"


class InvalidRestoreTimeError(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__(ERROR_TYPE_PREFIX + "InvalidRestoreTimeException", message)


class BackupInUseError(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__(ERROR_TYPE_PREFIX + "BackupInUseException", message)


def journal_of(backend: Any) -> dict[str, list[tuple[float, Any]]]:
    """Table name -> [(time, items)] in time order, per moto backend (``/moto-api/reset`` clears it)."""
    found: dict[str, list[tuple[float, Any]]] = backend.__dict__.setdefault(_ATTRIBUTE, {})
    return found


def _creating(backend: Any) -> dict[str, int]:
    found: dict[str, int] = backend.__dict__.setdefault(_CREATING, {})
    return found


def _pitr(table: Any) -> dict[str, Any]:
    described: dict[str, Any] = table.continuous_backups.setdefault("PointInTimeRecoveryDescription", {})
    return described


def _record(backend: Any, names: Any) -> None:
    now, journal = time.time(), journal_of(backend)
    for name in names:
        table = backend.tables.get(name)
        if table is not None and _pitr(table).get("PointInTimeRecoveryStatus") == "ENABLED":
            journal.setdefault(name, []).append((now, copy.deepcopy(table.items)))


def _touched(handler: Any, action: str) -> Any:
    body = handler.body
    if action in ("execute_statement", "batch_execute_statement", "execute_transaction"):
        return list(handler.dynamodb_backend.tables)  # PartiQL names its table in the statement: record all
    if action == "batch_write_item":
        return list(body.get("RequestItems") or {})
    if action == "transact_write_items":
        ops = [next(iter(op.values())) for op in body.get("TransactItems") or ()]
        return {op.get("TableName") for op in ops}
    return [body.get("TableName")]


def _journaled(action: str, original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def write(self: Any) -> Any:
        with _LOCK:
            answer = original(self)
            _record(self.dynamodb_backend, _touched(self, action))
            return answer

    write.__name__ = action
    return write


def _window(table: Any) -> tuple[float, float]:
    pitr = _pitr(table)
    earliest = float(pitr.get("EarliestRestorableDateTime") or time.time())
    days = int(pitr.get("RecoveryPeriodInDays") or 35)
    earliest = max(earliest, time.time() - days * 86400)
    return earliest, max(earliest, time.time() - LAG)


def _update_continuous_backups(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def update(self: Any) -> Any:
        with _LOCK:
            name = self.body["TableName"]
            before = self.dynamodb_backend.tables.get(name)
            was_on = before is not None and _pitr(before).get("PointInTimeRecoveryStatus") == "ENABLED"
            answer = original(self)
            journal = journal_of(self.dynamodb_backend)
            table = self.dynamodb_backend.tables.get(name)
            if table is None or _pitr(table).get("PointInTimeRecoveryStatus") != "ENABLED":
                journal.pop(name, None)
            elif not was_on or name not in journal:
                journal.pop(name, None)
                _pitr(table)["EarliestRestorableDateTime"] = time.time()
                _record(self.dynamodb_backend, [name])
            return answer

    return update


def _describe_continuous_backups(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def describe(self: Any) -> Any:
        with _LOCK:
            table = self.dynamodb_backend.tables.get(self.body.get("TableName"))
            if table is not None and _pitr(table).get("PointInTimeRecoveryStatus") == "ENABLED":
                earliest, latest = _window(table)
                _pitr(table).update(EarliestRestorableDateTime=earliest, LatestRestorableDateTime=latest)
            return original(self)

    return describe


def _when(value: Any) -> float:
    """A RestoreDateTime as moto parsed it: epoch seconds, or a datetime (naive means UTC)."""
    if isinstance(value, int | float):
        return float(value)
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()


def _overrides(new: Any, source: Any, body: dict[str, Any]) -> None:
    """The overrides AWS applies; no tags, stream, TTL or PITR on the new table."""
    new.billing_mode = body.get("BillingModeOverride") or source.billing_mode
    sse = body.get("SSESpecificationOverride")
    new.sse_specification = dict(sse) if sse and sse.get("Enabled") else None
    wanted = body.get("GlobalSecondaryIndexOverride")
    if wanted is not None:
        have = {index.name: index for index in new.global_indexes}
        for index in wanted:
            if index["IndexName"] not in have:
                raise MockValidationException(
                    f"GlobalSecondaryIndexOverride: the source has no index {index['IndexName']}"
                )
        names = {index["IndexName"] for index in wanted}
        new.global_indexes = [index for index in new.global_indexes if index.name in names]
    new.stream_specification = {"StreamEnabled": False}
    new.latest_stream_label = None
    new.stream_shard = None


def _restore_to_point_in_time(self: Any) -> Any:
    backend, body = self.dynamodb_backend, self.body
    with _LOCK:
        source_name = body.get("SourceTableName") or str(body.get("SourceTableArn", "")).rpartition("/")[2]
        source = backend.tables.get(source_name)
        if source is None:
            raise SourceTableNotFoundException(source_name)
        target = body["TargetTableName"]
        if target in backend.tables:
            raise TableAlreadyExistsException(target)
        if _pitr(source).get("PointInTimeRecoveryStatus") != "ENABLED":
            raise PointInTimeRecoveryUnavailable(source_name)
        earliest, latest = _window(source)
        at = latest if body.get("UseLatestRestorableTime") else _when(body.get("RestoreDateTime"))
        if not earliest <= at <= latest:
            raise InvalidRestoreTimeError(f"Invalid restore time {at}; restorable window is [{earliest}, {latest}]")
        versions = [items for when, items in journal_of(backend).get(source_name, []) if when <= at]
        new = RestoredPITTable(target, account_id=backend.account_id, region=backend.region_name, source=source)  # type: ignore[abstract]
        new.items = copy.deepcopy(versions[-1]) if versions else defaultdict(dict)
        new.restore_date_time = dt.datetime.fromtimestamp(at, dt.UTC).replace(tzinfo=None)
        _overrides(new, source, body)
        backend.tables[target] = new
        return DynamoResult(new.describe())


def _restore_table_from_backup(self: Any) -> Any:
    backend, body = self.dynamodb_backend, self.body
    with _LOCK:
        backup = backend.get_backup(body["BackupArn"])  # BackupNotFoundException
        if backup.status == "CREATING":
            raise BackupInUseError(f"Backup {backup.arn} is being created")
        target = body["TargetTableName"]
        if target in backend.tables:
            raise TableAlreadyExistsException(target)
        new = RestoredTable(target, account_id=backend.account_id, region=backend.region_name, backup=backup)  # type: ignore[abstract]
        _overrides(new, backup.table, body)
        backend.tables[target] = new
        return DynamoResult(new.describe())


def _create_backup(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def create(self: Any) -> Any:
        with _LOCK:
            table = self.dynamodb_backend.tables.get(self.body.get("TableName"))
            if table is not None and any(
                b.status == "CREATING" and b.table.name == table.name for b in self.dynamodb_backend.backups.values()
            ):
                raise BackupInUseError(f"Table {table.name} has a backup being created")
            before = set(self.dynamodb_backend.backups)
            original(self)
            (arn,) = set(self.dynamodb_backend.backups) - before
            backup = self.dynamodb_backend.backups[arn]
            if BACKUP_CREATING_DESCRIBES > 0:
                backup.status = "CREATING"
                _creating(self.dynamodb_backend)[arn] = BACKUP_CREATING_DESCRIBES
            return DynamoResult({"BackupDetails": backup.details})

    return create


def _counted(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """DescribeBackup and ListBackups each count one describe of every backup still CREATING."""

    def described(self: Any) -> Any:
        with _LOCK:
            creating = _creating(self.dynamodb_backend)
            for arn in list(creating):
                creating[arn] -= 1
                backup = self.dynamodb_backend.backups.get(arn)
                if creating[arn] < 0 or backup is None:
                    creating.pop(arn)
                    if backup is not None:
                        backup.status = "AVAILABLE"
            return original(self)

    return described


def _delete_table(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def delete(self: Any) -> Any:
        with _LOCK:
            answer = original(self)
            journal_of(self.dynamodb_backend).pop(self.body.get("TableName"), None)
            return answer

    return delete


def install() -> None:
    """Patch moto's DynamoDB handler in this process (idempotent)."""
    global _installed
    with _LOCK:
        if _installed:
            return
        for action in _WRITES:
            setattr(DynamoHandler, action, _journaled(action, getattr(DynamoHandler, action)))
        wrapped = {
            "update_continuous_backups": _update_continuous_backups,
            "describe_continuous_backups": _describe_continuous_backups,
            "create_backup": _create_backup,
            "describe_backup": _counted,
            "list_backups": _counted,
            "delete_table": _delete_table,
        }
        for name, wrap in wrapped.items():
            setattr(DynamoHandler, name, wrap(getattr(DynamoHandler, name)))
        setattr(DynamoHandler, "restore_table_to_point_in_time", _restore_to_point_in_time)  # noqa: B010
        setattr(DynamoHandler, "restore_table_from_backup", _restore_table_from_backup)  # noqa: B010
        _installed = True
