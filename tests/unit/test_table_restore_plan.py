"""The pure half of table restores and backups: refusals in words, overrides, names, status."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from upskill_operator.adapters.table.restore_plan import (
    backup_name,
    backup_problem,
    backup_status,
    index_overrides,
    keys_problem,
    made_by_restore,
    restore_conflict,
    restored_from,
    window_problem,
)
from upskill_operator.adapters.table.state import Index, Key, TableState
from upskill_operator.models.table import TableSpec
from upskill_operator.models.table_restore import RestoreSpec

T0 = dt.datetime(2026, 12, 3, 5, 0, tzinfo=dt.UTC)
PITR_ON = {
    "PointInTimeRecoveryDescription": {
        "PointInTimeRecoveryStatus": "ENABLED",
        "EarliestRestorableDateTime": T0,
        "LatestRestorableDateTime": T0 + dt.timedelta(hours=1),
    }
}


def source(*indexes: dict[str, Any], hash_type: str = "S") -> dict[str, Any]:
    return {
        "TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/upskill-e2e-src",
        "KeySchema": [{"AttributeName": "sk", "KeyType": "RANGE"}, {"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": hash_type},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "u", "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": list(indexes),
    }


def gsi(name: str, key: str = "u") -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
        "IndexStatus": "ACTIVE",
    }


@pytest.mark.parametrize(
    ("at", "continuous", "expected"),
    [
        (T0 + dt.timedelta(minutes=30), PITR_ON, None),
        (None, PITR_ON, None),
        (T0, PITR_ON, None),
        (T0 - dt.timedelta(seconds=1), PITR_ON, "2026-12-03T04:59:59Z is outside the source's restorable window"),
        (T0 + dt.timedelta(hours=2), PITR_ON, "[2026-12-03T05:00:00Z, 2026-12-03T06:00:00Z]"),
        (None, {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}, "recovery off"),
    ],
    ids=["inside", "latest", "earliest-edge", "before", "after", "pitr-off"],
)
def test_the_time_must_be_inside_the_window(at: dt.datetime | None, continuous: Any, expected: str | None) -> None:
    problem = window_problem("spec.restore.pointInTime.time", at, continuous)
    assert problem == expected if expected is None else expected in str(problem)


def test_the_key_schema_must_be_the_sources() -> None:
    want = (Key("pk", "S"), Key("sk", "S"))
    assert keys_problem("f", want, source()) is None
    assert keys_problem("f", (Key("sk", "S"), Key("pk", "S")), source()) is not None  # order counts: HASH first
    assert "pk:N/sk:S" in str(keys_problem("f", want, source(hash_type="N")))
    assert keys_problem("f", (Key("pk", "S"),), source()) is not None
    untyped = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]}
    assert keys_problem("f", want, untyped) is None  # a backup's SourceTableDetails carries no types


def test_a_creating_backup_waits_and_a_deleted_one_is_refused() -> None:
    assert backup_problem("f", {"BackupStatus": "AVAILABLE"}) is None
    assert backup_problem("f", {"BackupStatus": "CREATING", "BackupName": "b"}) == (
        "f: backup 'b' is still CREATING; waiting until it is AVAILABLE",
        True,
    )
    message, wait = backup_problem("f", {"BackupStatus": "DELETED", "BackupName": "b"}) or ("", True)
    assert not wait
    assert "DELETED" in message


def test_the_index_override_keeps_only_the_spec_indexes_the_source_has_alike() -> None:
    desired = TableState(
        "new",
        (Key("pk", "S"), Key("sk", "S")),
        {
            "same": Index("same", (Key("u", "S"),)),
            "reshaped": Index("reshaped", (Key("sk", "S"),)),
            "added": Index("added", (Key("u", "S"),)),
        },
    )
    overrides = index_overrides(desired, source(gsi("same"), gsi("reshaped"), gsi("dropped")))
    assert [o["IndexName"] for o in overrides] == ["same"]


def test_a_table_counts_as_made_by_this_restore_only_with_a_summary_of_the_same_kind() -> None:
    pit = RestoreSpec.model_validate({"pointInTime": {"sourceTable": "src", "latest": True}})
    backup = RestoreSpec.model_validate({"fromBackup": {"backupName": "upskill-e2e-src-b1"}})
    by_pit = {"RestoreSummary": {"SourceTableArn": "arn:x", "RestoreDateTime": T0}}
    by_backup = {"RestoreSummary": {"SourceBackupArn": "arn:b", "SourceTableArn": "arn:x"}}
    assert made_by_restore(pit, by_pit)
    assert made_by_restore(backup, by_backup)
    assert not made_by_restore(pit, by_backup)
    assert not made_by_restore(backup, by_pit)
    assert not made_by_restore(None, by_pit)
    assert not made_by_restore(pit, {})
    assert restored_from(by_pit) == {"sourceTableArn": "arn:x", "restoreTime": "2026-12-03T05:00:00Z"}
    assert restored_from({}) is None


def test_backup_names_stay_within_dynamodbs_limit_and_unique() -> None:
    assert backup_name("upskill-e2e-notes", "before-import") == "upskill-e2e-notes-before-import"
    long_a, long_b = "a" * 250 + "x", "a" * 250 + "y"
    assert len(backup_name(long_a, "nightly")) == 255
    assert backup_name(long_a, "nightly") != backup_name(long_b, "nightly")
    assert backup_name(long_a, "nightly").endswith("-nightly")


def test_backup_status_reads_the_summary() -> None:
    summary = {
        "BackupArn": "arn:b",
        "BackupStatus": "AVAILABLE",
        "BackupCreationDateTime": T0,
        "BackupSizeBytes": 42,
    }
    assert backup_status("b1", "t-b1", summary) == {
        "name": "b1",
        "backupName": "t-b1",
        "arn": "arn:b",
        "state": "AVAILABLE",
        "createdAt": "2026-12-03T05:00:00Z",
        "sizeBytes": 42,
    }
    assert backup_status("b1", "t-b1", None) == {"name": "b1", "backupName": "t-b1"}


@pytest.mark.parametrize(
    ("restore", "message"),
    [
        ({"pointInTime": {"sourceTable": "a", "sourceTableName": "bbb", "latest": True}}, "exactly one of sourceTable"),
        ({"pointInTime": {"sourceTable": "a"}}, "exactly one of time and latest"),
        ({"pointInTime": {"sourceTable": "a", "time": "2026-12-03T05:00:00"}}, "time zone offset"),
        ({"pointInTime": {"sourceTable": "a", "time": "yesterday"}}, "RFC 3339"),
        ({"pointInTime": {"sourceTable": "other/a", "latest": True}}, "cross-namespace references are not"),
        ({}, "exactly one of pointInTime and fromBackup"),
        ({"fromBackup": {}}, "exactly one of sourceTable with backup, backupName and backupArn"),
        ({"fromBackup": {"sourceTable": "a"}}, "sourceTable and backup go together"),
        ({"fromBackup": {"sourceTable": "a", "backup": "b1", "backupName": "xyz"}}, "exactly one of sourceTable"),
        ({"fromBackup": {"backupArn": "arn:aws:s3:::bucket"}}, "must be a DynamoDB backup ARN"),
    ],
)
def test_a_malformed_restore_is_refused_with_its_field(restore: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        TableSpec.model_validate({"keys": {"partition": {"name": "pk", "type": "S"}}, "restore": restore})
    assert message in str(refused.value)


def test_backup_entries_must_be_unique() -> None:
    with pytest.raises(ValidationError) as refused:
        TableSpec.model_validate({"keys": {"partition": {"name": "pk", "type": "S"}}, "backups": [{"name": "b"}] * 2})
    assert "must be unique (repeated: b)" in str(refused.value)


@pytest.mark.parametrize(
    ("restore", "table", "expected"),
    [
        (None, {}, None),
        ({"pointInTime": {"sourceTable": "src", "latest": True}}, {}, "was not made by a restore"),
        (
            {"pointInTime": {"sourceTable": "src", "latest": True}},
            {"RestoreSummary": {"SourceTableArn": "arn:aws:dynamodb:r:1:table/upskill-e2e-src"}},
            None,
        ),
        (
            {"pointInTime": {"sourceTable": "other", "latest": True}},
            {"RestoreSummary": {"SourceTableArn": "arn:aws:dynamodb:r:1:table/upskill-e2e-src"}},
            "restored from arn:aws:dynamodb:r:1:table/upskill-e2e-src",
        ),
        (
            {"fromBackup": {"backupArn": "arn:aws:dynamodb:us-east-1:123456789012:table/upskill-e2e-src/backup/01-a"}},
            {
                "RestoreSummary": {
                    "SourceBackupArn": "arn:aws:dynamodb:us-east-1:123456789012:table/upskill-e2e-src/backup/01-b"
                }
            },
            "restored from arn:aws:dynamodb:us-east-1:123456789012:table/upskill-e2e-src/backup/01-b",
        ),
        (
            {"fromBackup": {"backupName": "upskill-e2e-src-b1"}},
            {"RestoreSummary": {"SourceTableArn": "arn:aws:dynamodb:r:1:table/upskill-e2e-src"}},
            "restored from",
        ),
    ],
    ids=["no-restore", "not-restored", "same-source", "other-source", "other-backup", "pit-table-for-backup-spec"],
)
def test_a_changed_restore_is_an_immutable_conflict(
    restore: dict[str, Any] | None, table: dict[str, Any], expected: str | None
) -> None:
    spec = RestoreSpec.model_validate(restore) if restore is not None else None
    source = None
    if spec is not None and spec.point_in_time is not None:
        source = f"upskill-e2e-{spec.point_in_time.source_table}"
    found = restore_conflict(spec, table, source)
    assert found == expected if expected is None else expected in str(found)
