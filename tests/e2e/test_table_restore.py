"""UpskillTable restores and on-demand backups end to end: items written through boto3, restored into new tables.

The bed's restores carry the items as of their time (:mod:`upskill_sandbox.dynamodb_restore`); its
LatestRestorableDateTime trails now by ``LAG`` seconds, so a test waits that long after the write it
wants covered.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest

from upskill_sandbox import dynamodb_restore
from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import NAMESPACE, Bed, condition, wait_for
from e2e.test_tables import aws_table, ready, table_doc, unique

pytestmark = pytest.mark.e2e

OWNER = "upskill.io/owner"


@pytest.fixture
def fast_window() -> Iterator[None]:
    lag = dynamodb_restore.LAG
    dynamodb_restore.LAG = 0.5
    yield
    dynamodb_restore.LAG = lag


def put(bed: Bed, name: str, pk: str) -> None:
    item = {"pk": {"S": pk}, "sk": {"S": "0"}, "userId": {"S": "u1"}, "createdAt": {"N": "1"}}
    bed.boto("dynamodb").put_item(TableName=f"upskill-{NAMESPACE}-{name}", Item=item)


def items(bed: Bed, name: str) -> list[str]:
    found = bed.boto("dynamodb").scan(TableName=f"upskill-{NAMESPACE}-{name}")["Items"]
    return sorted(item["pk"]["S"] for item in found)


def restored_doc(name: str, restore: dict[str, Any], **spec: Any) -> dict[str, Any]:
    doc = table_doc(name, restore=restore, **spec)
    doc["spec"]["tags"] = {"team": "recovery"}
    return doc


def assert_spec_applied(bed: Bed, name: str, obj: dict[str, Any]) -> None:
    """What a restore does not carry over is there anyway: indexes, stream, TTL, PITR, tags, encryption."""
    table, ddb = aws_table(bed, name), bed.boto("dynamodb")
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["byUser"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = ddb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
    pitr = ddb.describe_continuous_backups(TableName=table["TableName"])["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 14
    tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]}
    assert tags[OWNER] == f"{NAMESPACE}/{name}"
    assert tags["team"] == "recovery"
    assert tags["upskill.io/uid"] == obj["metadata"]["uid"]


def test_a_point_in_time_between_two_writes_restores_only_the_first(
    bed: Bed, operator: OperatorThread, fast_window: None
) -> None:
    src, back, latest = unique("src"), unique("then"), unique("latest")
    bed.apply(table_doc(src))
    ready(bed, src)
    put(bed, src, "first")
    time.sleep(0.1)
    between = dt.datetime.now(dt.UTC)
    time.sleep(0.1)
    put(bed, src, "second")
    time.sleep(dynamodb_restore.LAG + 0.2)  # the window now reaches past the second write
    at = between.isoformat().replace("+00:00", "Z")
    bed.apply(restored_doc(back, {"pointInTime": {"sourceTable": src, "time": at}}))
    bed.apply(restored_doc(latest, {"pointInTime": {"sourceTableName": f"upskill-{NAMESPACE}-{src}", "latest": True}}))
    obj = ready(bed, back)
    assert items(bed, back) == ["first"]
    assert_spec_applied(bed, back, obj)
    restored = obj["status"]["restoredFrom"]
    assert restored["sourceTableArn"] == aws_table(bed, src)["TableArn"]
    assert abs((dt.datetime.fromisoformat(restored["restoreTime"]) - between).total_seconds()) < 0.01
    ready(bed, latest)
    assert items(bed, latest) == ["first", "second"]


def test_an_on_demand_backup_is_taken_once_and_restores_its_items(bed: Bed, operator: OperatorThread) -> None:
    src, copy = unique("src"), unique("copy")
    bed.apply(table_doc(src))
    ready(bed, src)
    put(bed, src, "kept")
    bed.apply(table_doc(src, backups=[{"name": "before-import"}]))
    backup_name = f"upskill-{NAMESPACE}-{src}-before-import"

    def available() -> dict[str, Any] | None:
        obj = bed.get("upskilltables", src) or {}
        listed = (obj.get("status") or {}).get("backups") or []
        return listed[0] if listed and listed[0].get("state") == "AVAILABLE" else None

    entry = wait_for(available, 30, "the backup AVAILABLE in status")
    assert entry["backupName"] == backup_name
    assert entry["arn"]
    assert entry["createdAt"]
    put(bed, src, "after-backup")
    bed.apply(restored_doc(copy, {"fromBackup": {"sourceTable": src, "backup": "before-import"}}))
    obj = ready(bed, copy)
    assert items(bed, copy) == ["kept"]
    assert obj["status"]["restoredFrom"]["sourceBackupArn"] == entry["arn"]
    assert_spec_applied(bed, copy, obj)
    listed = bed.boto("dynamodb").list_backups(TableName=f"upskill-{NAMESPACE}-{src}")["BackupSummaries"]
    assert [b["BackupName"] for b in listed] == [backup_name]  # resyncs never take a second one
    bed.apply(table_doc(src))  # dropping the entry keeps the backup
    time.sleep(2 * bed.settings.requeue_seconds + 1)
    listed = bed.boto("dynamodb").list_backups(TableName=f"upskill-{NAMESPACE}-{src}")["BackupSummaries"]
    assert [b["BackupName"] for b in listed] == [backup_name]


def test_a_restore_the_crash_left_untagged_is_tagged_without_adopt(bed: Bed, operator: OperatorThread) -> None:
    """The state a crash between RestoreTableToPointInTime and TagResource leaves: claimed, tagged, Ready."""
    src, back = unique("src"), unique("crashed")
    bed.apply(table_doc(src))
    ready(bed, src)
    put(bed, src, "one")
    ddb = bed.boto("dynamodb")
    key = bed.boto("kms").describe_key(KeyId="alias/upskill")["KeyMetadata"]["Arn"]
    ddb.restore_table_to_point_in_time(  # exactly the operator's call
        SourceTableName=f"upskill-{NAMESPACE}-{src}",
        TargetTableName=f"upskill-{NAMESPACE}-{back}",
        UseLatestRestorableTime=True,
        BillingModeOverride="PAY_PER_REQUEST",
        SSESpecificationOverride={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key},
    )
    bed.calls.clear()
    bed.apply(restored_doc(back, {"pointInTime": {"sourceTable": src, "latest": True}}))
    obj = ready(bed, back)
    assert_spec_applied(bed, back, obj)
    assert ("dynamodb", "TagResource") in bed.calls.calls
    assert ("dynamodb", "RestoreTableToPointInTime") not in bed.calls.calls  # tagged, never restored twice
    assert condition(obj, "Terminal").get("status") != "True"


def test_a_backup_still_creating_waits_with_zero_writes(bed: Bed, operator: OperatorThread) -> None:
    src, copy = unique("src"), unique("waits")
    bed.apply(table_doc(src))
    ready(bed, src)
    before = dynamodb_restore.BACKUP_CREATING_DESCRIBES
    dynamodb_restore.BACKUP_CREATING_DESCRIBES = 10_000
    try:
        backup = bed.boto("dynamodb").create_backup(TableName=f"upskill-{NAMESPACE}-{src}", BackupName=f"{src}-manual")
    finally:
        dynamodb_restore.BACKUP_CREATING_DESCRIBES = before
    bed.calls.clear()
    bed.apply(restored_doc(copy, {"fromBackup": {"backupArn": backup["BackupDetails"]["BackupArn"]}}))

    def recoverable() -> dict[str, Any] | None:
        found = condition(bed.get("upskilltables", copy), "Recoverable")
        return found if found.get("status") == "True" else None

    found = wait_for(recoverable, 30, "Recoverable while the backup is CREATING")
    assert "still CREATING" in found["message"]
    assert [c for c in bed.calls.mutating() if c[0] == "dynamodb"] == []
    assert f"upskill-{NAMESPACE}-{copy}" not in bed.boto("dynamodb").list_tables()["TableNames"]


def backups_of(bed: Bed, name: str) -> list[str]:
    listed = bed.boto("dynamodb").list_backups(TableName=f"upskill-{NAMESPACE}-{name}")["BackupSummaries"]
    return sorted(b["BackupName"] for b in listed)


def gone(bed: Bed, name: str) -> bool:
    return bed.get("upskilltables", name) is None


def test_delete_policy_deletes_the_backups_and_retain_keeps_them(bed: Bed, operator: OperatorThread) -> None:
    deleted, kept = unique("del"), unique("kept")
    for name, policy in ((deleted, "Delete"), (kept, "Retain")):
        bed.apply(table_doc(name, deletionPolicy=policy, backups=[{"name": "b1"}, {"name": "b2"}]))
    for name in (deleted, kept):
        wait_for(lambda n=name: len(backups_of(bed, n)) == 2, 30, f"{name}: two backups")
        bed.delete("upskilltables", name)
        wait_for(lambda n=name: gone(bed, n), 30, f"{name} finalized")
    assert backups_of(bed, deleted) == []
    assert f"upskill-{NAMESPACE}-{deleted}" not in bed.boto("dynamodb").list_tables()["TableNames"]
    assert backups_of(bed, kept) == [f"upskill-{NAMESPACE}-{kept}-b1", f"upskill-{NAMESPACE}-{kept}-b2"]


def test_a_deleted_table_comes_back_from_its_system_backup(bed: Bed, operator: OperatorThread) -> None:
    """Undo a deletion: deletionPolicy Delete with PITR on leaves <table>$DeletedTableBackup, restorable by name."""
    name, back = unique("lost"), unique("back")
    bed.apply(table_doc(name))
    ready(bed, name)
    put(bed, name, "precious")
    bed.delete("upskilltables", name)
    wait_for(lambda: gone(bed, name), 30, f"{name} finalized")
    system = f"upskill-{NAMESPACE}-{name}$DeletedTableBackup"
    bed.apply(restored_doc(back, {"fromBackup": {"backupName": system}}))
    obj = ready(bed, back)
    assert items(bed, back) == ["precious"]
    assert_spec_applied(bed, back, obj)


def index(name: str, key: str) -> dict[str, Any]:
    return {"name": name, "partition": {"name": key, "type": "S"}, "projection": "KEYS_ONLY"}


def test_the_restore_keeps_the_spec_indexes_drops_the_others_and_adds_the_new(
    bed: Bed, operator: OperatorThread
) -> None:
    src, back = unique("src"), unique("reindexed")
    bed.apply(table_doc(src, globalIndexes=[index("byUser", "userId"), index("byOld", "old")]))
    ready(bed, src)
    put(bed, src, "one")
    time.sleep(dynamodb_restore.LAG + 0.2)  # the latest restorable time trails now: let it pass the write
    bed.calls.clear()
    restore = {"pointInTime": {"sourceTable": src, "latest": True}}
    bed.apply(restored_doc(back, restore, globalIndexes=[index("byUser", "userId"), index("byNew", "new")]))
    ready(bed, back)
    table = aws_table(bed, back)
    assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == ["byNew", "byUser"]
    assert items(bed, back) == ["one"]
    writes = [op for service, op in bed.calls.mutating() if service == "dynamodb"]
    assert writes.count("RestoreTableToPointInTime") == 1
    assert writes.count("UpdateTable") == 2  # the new index and the stream; byOld never existed on the new table


def test_deleting_a_resource_that_named_a_foreign_table_leaves_its_backups(bed: Bed, operator: OperatorThread) -> None:
    """The backups step deletes only the backups of a table that was ours, never another team's."""
    foreign, name = f"upskill-other-{unique('orders')}", unique("grabby")
    ddb = bed.boto("dynamodb")
    ddb.create_table(
        TableName=foreign,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": OWNER, "Value": "other/orders"}],
    )
    ddb.create_backup(TableName=foreign, BackupName=f"{foreign}-nightly")
    doc = table_doc(name, tableName=foreign, backups=[{"name": "nightly"}], deletionPolicy="Delete")
    doc["spec"]["keys"] = {"partition": {"name": "pk", "type": "S"}}
    doc["spec"]["globalIndexes"] = []
    bed.apply(doc)
    wait_for(lambda: condition(bed.get("upskilltables", name), "Terminal").get("status") == "True", 30, "Terminal")
    bed.delete("upskilltables", name)
    wait_for(lambda: gone(bed, name), 30, f"{name} finalized")
    listed = ddb.list_backups(TableName=foreign)["BackupSummaries"]
    assert [b["BackupName"] for b in listed] == [f"{foreign}-nightly"]
    assert foreign in ddb.list_tables()["TableNames"]
