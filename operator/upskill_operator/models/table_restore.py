"""UpskillTable's recovery fields: where a new table's data comes from, and the on-demand backups it keeps.

A restore is a creation source, so it is immutable: the table exists once, made from that source, and
the rest of the spec (indexes, TTL, stream, PITR, tags) is applied on top after the restore, because
DynamoDB's restores carry only the data, the indexes, the capacity and the encryption.
The checks that need AWS (the source exists and belongs to this namespace, the time is inside its
window, the backup is AVAILABLE, the keys agree) run in the adapter before its only write.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from upskill_operator.models.common import LocalReference, Model, StatusModel
from upskill_operator.models.rules import LocalName, Matches, fail

__all__ = [
    "BACKUP_NAME_MAX",
    "BackupRequest",
    "BackupSource",
    "BackupStatus",
    "PointInTimeSource",
    "RestoreSpec",
    "RestoredFromStatus",
    "parse_time",
]

BACKUP_NAME_MAX = 255
"""DynamoDB's BackupName: 3-255 characters of a-z A-Z 0-9 _ . -"""

AwsName = Annotated[str, Matches(r"^[a-zA-Z0-9_.-]{3,}$", "must be 3-255 characters of a-z A-Z 0-9 _ . -", 255)]
BackupArn = Annotated[
    str,
    Matches(
        r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[a-zA-Z0-9_.-]{3,255}/backup/[0-9a-zA-Z-]+$",
        "must be a DynamoDB backup ARN (arn:aws:dynamodb:<region>:<account>:table/<table>/backup/<id>)",
        1024,
    ),
]
BackupLookupName = Annotated[
    str,
    Matches(
        r"^[a-zA-Z0-9_.$-]{3,}$",
        "must be 3-255 characters of a-z A-Z 0-9 _ . - (and $, as in AWS's <table>$DeletedTableBackup)",
        255,
    ),
]
ShortName = Annotated[
    str, Matches(r"^[a-zA-Z0-9_.-]{1,}$", "must be 1-64 characters of a-z A-Z 0-9 _ . - (DynamoDB's alphabet)", 64)
]


def parse_time(value: str) -> dt.datetime:
    """An RFC 3339 timestamp with its offset (``2026-12-03T05:00:00Z``), as an aware datetime."""
    parsed = dt.datetime.fromisoformat(value.replace("z", "Z"))
    if parsed.tzinfo is None:
        raise ValueError("must carry a time zone offset (RFC 3339, e.g. 2026-12-03T05:00:00Z)")
    return parsed


def _rfc3339(value: str) -> str:
    try:
        parse_time(value)
    except ValueError as exc:
        text = str(exc) if "offset" in str(exc) else f"must be an RFC 3339 timestamp, e.g. 2026-12-03T05:00:00Z ({exc})"
        raise ValueError(text) from None
    return value


Rfc3339 = Annotated[str, Field(max_length=64), AfterValidator(_rfc3339)]


class PointInTimeSource(LocalReference):
    """Another table of this namespace, as it was at a time (or at its latest restorable time)."""

    referent = "an UpskillTable"

    source_table: Annotated[str, LocalName("an UpskillTable")] | None = Field(
        None, description="UpskillTable in this namespace whose derived table is the source."
    )
    source_table_name: AwsName | None = Field(
        None, description="DynamoDB name of the source; it must carry this namespace's upskill.io/owner tag."
    )
    time: Rfc3339 | None = Field(None, description="RFC 3339 time to restore to, inside the source's PITR window.")
    latest: bool = Field(False, description="Restore to the source's latest restorable time instead of a time.")

    @model_validator(mode="after")
    def _one_each(self) -> PointInTimeSource:
        if (self.source_table is None) == (self.source_table_name is None):
            fail((("sourceTable",), "give exactly one of sourceTable and sourceTableName"))
        if (self.time is None) == (not self.latest):
            fail((("time",), "give exactly one of time and latest: true"))
        return self


class BackupSource(Model):
    """An on-demand (or system) DynamoDB backup of a table of this namespace: one of three ways to name it."""

    source_table: Annotated[str, LocalName("an UpskillTable")] | None = Field(
        None, description="With backup: the UpskillTable in this namespace whose spec.backups entry it is."
    )
    backup: ShortName | None = Field(None, description="With sourceTable: the spec.backups entry name (e.g. b1).")
    backup_name: BackupLookupName | None = Field(
        None,
        description="DynamoDB BackupName (<table>-<entry>, or <table>$DeletedTableBackup for a deleted table).",
    )
    backup_arn: BackupArn | None = Field(None, description="Backup ARN; its table must belong to this namespace.")

    @model_validator(mode="after")
    def _one(self) -> BackupSource:
        if (self.source_table is None) != (self.backup is None):
            fail((("backup",), "sourceTable and backup go together (the UpskillTable and its spec.backups entry)"))
        given = [self.backup is not None, self.backup_name is not None, self.backup_arn is not None]
        if sum(given) != 1:
            fail((("backupName",), "give exactly one of sourceTable with backup, backupName and backupArn"))
        return self


class RestoreSpec(Model):
    """Where the new table's items come from. Exactly one source."""

    point_in_time: PointInTimeSource | None = Field(
        None, description="RestoreTableToPointInTime from another table of this namespace."
    )
    from_backup: BackupSource | None = Field(None, description="RestoreTableFromBackup.")

    @model_validator(mode="after")
    def _one(self) -> RestoreSpec:
        if (self.point_in_time is None) == (self.from_backup is None):
            fail((("pointInTime",), "give exactly one of pointInTime and fromBackup"))
        return self


class BackupRequest(Model):
    """One on-demand backup, taken once: DynamoDB names it ``<table>-<name>``."""

    name: ShortName = Field(description="Backup suffix, e.g. before-import: the backup is <table>-<name>.")


class BackupStatus(StatusModel):
    """One backup this resource asked for, as ListBackups shows it."""

    name: str = Field(description="The spec entry.")
    backup_name: str | None = Field(None, description="DynamoDB BackupName (<table>-<name>).")
    arn: str | None = Field(None, description="Backup ARN (a restore's fromBackup.backupArn).")
    state: Literal["CREATING", "AVAILABLE", "DELETED"] | None = Field(None, description="BackupStatus.")
    created_at: str | None = Field(None, description="BackupCreationDateTime (RFC 3339).")
    size_bytes: int | None = Field(None, description="BackupSizeBytes.")


class RestoredFromStatus(StatusModel):
    """What the table was made from, as DynamoDB's RestoreSummary tells it."""

    source_table_arn: str | None = Field(None, description="The source table (point in time, or the backup's).")
    source_backup_arn: str | None = Field(None, description="The backup, for a restore from backup.")
    restore_time: str | None = Field(None, description="The point in time restored to (RFC 3339).")
