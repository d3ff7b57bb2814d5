"""The pure half of a table restore and of on-demand backups: checks, overrides, names and status.

Every check here takes what AWS answered (DescribeTable, DescribeContinuousBackups, DescribeBackup,
ListTagsOfResource) and returns the refusal in words, naming the spec field, or None: the adapter
raises it before its only write, so a refused restore makes zero AWS writes.

What a restore carries over (AWS's API reference, RestoreTableToPointInTime and RestoreTableFromBackup):
the items, the key schema, the secondary indexes (or the ones an override keeps), the capacity (or
the billing mode override) and the encryption (or its override). Tags, the stream, TTL, PITR, auto
scaling and IAM policies are not restored: the adapter tags the table right after the call, and the
engine's usual plan applies the rest from the spec.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from upskill_operator.adapters.table.state import Key, TableState, index_request, observed_table, same_keys
from upskill_operator.models.table_restore import BACKUP_NAME_MAX, RestoreSpec

__all__ = [
    "backup_name",
    "backup_problem",
    "backup_status",
    "index_overrides",
    "keys_problem",
    "made_by_restore",
    "restore_conflict",
    "restored_from",
    "window_problem",
]

AwsDict = dict[str, Any]


def _when(value: Any) -> dt.datetime | None:
    """A time as botocore parses it (datetime) or as a JSON answer carries it (epoch seconds)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return None


def _rfc3339(value: Any) -> str | None:
    when = _when(value)
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if when else None


def window_problem(field: str, at: dt.datetime | None, continuous: Mapping[str, Any]) -> str | None:
    """PITR must be on, and a requested time inside [EarliestRestorableDateTime, LatestRestorableDateTime]."""
    pitr = continuous.get("PointInTimeRecoveryDescription") or {}
    if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
        return f"{field}: the source has point-in-time recovery off, so no point in time can be restored"
    if at is None:
        return None
    earliest, latest = _when(pitr.get("EarliestRestorableDateTime")), _when(pitr.get("LatestRestorableDateTime"))
    if earliest is None or latest is None:
        return None  # AWS did not say: let RestoreTableToPointInTime decide
    if not earliest <= at <= latest:
        return (
            f"{field}: {_rfc3339(at)} is outside the source's restorable window "
            f"[{_rfc3339(earliest)}, {_rfc3339(latest)}]"
        )
    return None


def _source_keys(table: Mapping[str, Any]) -> tuple[Key, ...]:
    types = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions") or ()}
    ordered = sorted(table.get("KeySchema") or (), key=lambda k: k["KeyType"] != "HASH")
    return tuple(Key(k["AttributeName"], types.get(k["AttributeName"], "")) for k in ordered)


def keys_problem(field: str, want: tuple[Key, ...], source: Mapping[str, Any]) -> str | None:
    """A restore keeps the source's key schema: ``spec.keys`` must be exactly it."""
    have = _source_keys(source)
    if same_keys(want, have):
        return None
    return (
        f"spec.keys: a restore keeps the source's key schema ({'/'.join(map(str, have))}, from {field}), "
        f"and the spec asks {'/'.join(map(str, want))}"
    )


def backup_problem(field: str, details: Mapping[str, Any]) -> tuple[str, bool] | None:
    """(message, wait) when the backup cannot be restored now; ``wait`` when it is only still CREATING."""
    status = details.get("BackupStatus")
    if status == "AVAILABLE":
        return None
    if status == "CREATING":
        return f"{field}: backup {details.get('BackupName')!r} is still CREATING; waiting until it is AVAILABLE", True
    return f"{field}: backup {details.get('BackupName')!r} is {status}, not AVAILABLE", False


def index_overrides(desired: TableState, source: Mapping[str, Any]) -> list[AwsDict]:
    """GlobalSecondaryIndexOverride: the spec's indexes that the source has with the same shape.

    AWS accepts only indexes of the source in an override (it drops the others); an index the spec
    adds or reshapes is created by the usual plan after the restore.
    """
    have = observed_table({"TableName": "source", "TableArn": "", **source}, {}, {}, {}).indexes
    return [index_request(i) for name, i in desired.indexes.items() if name in have and i.same_shape(have[name])]


def made_by_restore(restore: RestoreSpec | None, table: Mapping[str, Any]) -> bool:
    """The table is what this spec's own restore makes: its RestoreSummary is of the spec's kind.

    Together with the adoption scope (our derived name, no rival namespace), this is what lets a pass
    tag a table a crash left untagged between the restore call (which takes no tags) and TagResource.
    """
    summary = table.get("RestoreSummary") or {}
    if restore is None or not summary:
        return False
    from_backup = bool(summary.get("SourceBackupArn"))
    return from_backup == (restore.from_backup is not None)


def restore_conflict(restore: RestoreSpec | None, table: Mapping[str, Any], source_name: str | None) -> str | None:
    """``spec.restore`` names another source than the one the existing table was made from (or the table was
    made by no restore): an immutable field changed. ``source_name``: the point-in-time source the spec
    resolves to. A backup named by ``backupName`` is not compared (that would cost a lookup every pass)."""
    if restore is None:
        return None
    summary = table.get("RestoreSummary") or {}
    if not summary:
        return "spec.restore: immutable after creation (the table exists and was not made by a restore)"
    made_from = summary.get("SourceBackupArn") or summary.get("SourceTableArn")
    if not made_by_restore(restore, table):
        return f"spec.restore: immutable after creation (the table was restored from {made_from})"
    if restore.point_in_time is not None and source_name is not None:
        same = str(summary.get("SourceTableArn", "")).endswith(f":table/{source_name}")
    elif restore.from_backup is not None and restore.from_backup.backup_arn is not None:
        same = summary.get("SourceBackupArn") == restore.from_backup.backup_arn
    else:
        same = True
    return None if same else f"spec.restore: immutable after creation (the table was restored from {made_from})"


def restored_from(table: Mapping[str, Any]) -> AwsDict | None:
    """``status.restoredFrom`` from the table's RestoreSummary."""
    summary = table.get("RestoreSummary")
    if not summary:
        return None
    found = {
        "sourceTableArn": summary.get("SourceTableArn"),
        "sourceBackupArn": summary.get("SourceBackupArn"),
        "restoreTime": _rfc3339(summary.get("RestoreDateTime")),
    }
    return {key: value for key, value in found.items() if value}


def backup_name(table: str, entry: str) -> str:
    """``<table>-<entry>``; when longer than DynamoDB's 255, the table part is cut and a hash keeps it unique."""
    name = f"{table}-{entry}"
    if len(name) <= BACKUP_NAME_MAX:
        return name
    digest = hashlib.sha256(table.encode()).hexdigest()[:8]
    return f"{table[: BACKUP_NAME_MAX - len(entry) - 10]}-{digest}-{entry}"


def backup_status(entry: str, name: str, summary: Mapping[str, Any] | None) -> AwsDict:
    """One ``status.backups`` item from its ListBackups summary (None: not taken yet)."""
    if summary is None:
        return {"name": entry, "backupName": name}
    size = summary.get("BackupSizeBytes")
    return {
        "name": entry,
        "backupName": name,
        "arn": summary.get("BackupArn"),
        "state": summary.get("BackupStatus"),
        "createdAt": _rfc3339(summary.get("BackupCreationDateTime")),
        "sizeBytes": int(size) if size is not None else None,
    }
