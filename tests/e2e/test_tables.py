"""UpskillTable end to end: Kubernetes emulator -> kopf -> our engine -> moto server, all over HTTP."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import NAMESPACE, Bed, condition, is_ready, wait_for

pytestmark = pytest.mark.e2e


def table_doc(name: str, **spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "keys": {"partition": {"name": "pk", "type": "S"}, "sort": {"name": "sk", "type": "S"}},
        "globalIndexes": [
            {
                "name": "byUser",
                "partition": {"name": "userId", "type": "S"},
                "sort": {"name": "createdAt", "type": "N"},
                "projection": "ALL",
            },
        ],
        "ttlAttribute": "expiresAt",
        "stream": "NEW_AND_OLD_IMAGES",
        "pointInTimeRecovery": {"enabled": True, "recoveryPeriodDays": 14},
        "encryption": {"kmsKeyId": "alias/upskill"},
        "deletionProtection": False,
        "deletionPolicy": "Delete",
        "tags": {"team": "learning"},
        "connection": {"configMapName": f"{name}-table"},
    }
    base.update(spec)
    return {"apiVersion": "upskill.io/v1alpha1", "kind": "UpskillTable", "metadata": {"name": name}, "spec": base}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def aws_table(bed: Bed, name: str) -> dict[str, Any]:
    return bed.boto("dynamodb").describe_table(TableName=f"upskill-{NAMESPACE}-{name}")["Table"]


def ready(bed: Bed, name: str, timeout: float = 30) -> dict[str, Any]:
    return wait_for(lambda: (obj := bed.get("upskilltables", name)) and is_ready(obj) and obj, timeout, f"{name} Ready")


def table_names(bed: Bed) -> list[str]:
    return bed.boto("dynamodb").list_tables()["TableNames"]


def test_apply_reaches_ready_with_every_field_in_aws(bed: Bed, operator: OperatorThread) -> None:
    name = unique("notes")
    bed.apply(table_doc(name))
    obj = ready(bed, name)
    table = aws_table(bed, name)
    arn, ddb = table["TableArn"], bed.boto("dynamodb")

    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["byUser"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["DeletionProtectionEnabled"] is False
    assert ddb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expiresAt",
    }
    pitr = ddb.describe_continuous_backups(TableName=table["TableName"])["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert pitr["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 14
    tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]}
    assert tags["upskill.io/owner"] == f"{NAMESPACE}/{name}"
    assert tags["upskill.io/uid"] == obj["metadata"]["uid"]
    assert tags["team"] == "learning"

    status = obj["status"]
    assert status["phase"] == "Ready"
    assert status["arn"] == arn
    assert status["tableName"] == table["TableName"]
    assert status["streamArn"] == table["LatestStreamArn"]
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "Ready": "True",
        "Synced": "True",
        "Terminal": "False",
        "Recoverable": "False",
    }
    config_map = bed.kube.get("v1", "configmaps", NAMESPACE, f"{name}-table")
    assert config_map is not None
    assert config_map["data"] == {
        "TABLE_NAME": table["TableName"],
        "TABLE_ARN": arn,
        "STREAM_ARN": table["LatestStreamArn"],
        "AWS_REGION": "us-east-1",
        "PARTITION_KEY": "pk",
        "PARTITION_KEY_TYPE": "S",
        "SORT_KEY": "sk",
        "SORT_KEY_TYPE": "S",
        "TTL_ATTRIBUTE": "expiresAt",
        "INDEX_NAMES": "byUser",
        "INDEXES": '[{"name":"byUser","partitionKey":"userId","partitionKeyType":"S",'
        '"sortKey":"createdAt","sortKeyType":"N","projection":"ALL"}]',
    }


def test_spec_changes_are_applied(bed: Bed, operator: OperatorThread) -> None:
    name = unique("feed")
    bed.apply(table_doc(name))
    ready(bed, name)
    bed.apply(
        table_doc(
            name,
            globalIndexes=[
                {
                    "name": "byUser",
                    "partition": {"name": "userId", "type": "S"},
                    "sort": {"name": "createdAt", "type": "N"},
                    "projection": "ALL",
                },
                {"name": "byCourse", "partition": {"name": "courseId", "type": "S"}, "projection": "KEYS_ONLY"},
            ],
            ttlAttribute="purgeAt",
            pointInTimeRecovery={"enabled": False},
        )
    )
    ready(bed, name)
    table = aws_table(bed, name)
    ddb = bed.boto("dynamodb")
    assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == ["byCourse", "byUser"]
    assert (
        ddb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]["AttributeName"] == "purgeAt"
    )
    pitr = ddb.describe_continuous_backups(TableName=table["TableName"])["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"


def test_out_of_band_drift_is_repaired_and_steady_state_writes_nothing(bed: Bed, operator: OperatorThread) -> None:
    name = unique("drift")
    bed.apply(table_doc(name))
    ready(bed, name)
    table_name = aws_table(bed, name)["TableName"]
    ddb = bed.boto("dynamodb")

    bed.calls.clear()
    wait_for(lambda: sum(1 for c in bed.calls.calls if c == ("dynamodb", "DescribeTable")) >= 2, 15, "two resyncs")
    assert [c for c in bed.calls.mutating() if c[0] == "dynamodb"] == []

    ddb.update_continuous_backups(
        TableName=table_name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )

    def repaired() -> bool:
        desc = ddb.describe_continuous_backups(TableName=table_name)["ContinuousBackupsDescription"]
        return desc["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"

    wait_for(repaired, 20, "PITR re-enabled by the resync")


def test_semantically_invalid_spec_is_terminal_and_touches_no_aws(bed: Bed, operator: OperatorThread) -> None:
    name = unique("bad")
    bed.calls.clear()
    bed.apply(
        table_doc(name, globalIndexes=[{"name": "byPk", "partition": {"name": "pk", "type": "N"}, "projection": "ALL"}])
    )
    obj = wait_for(
        lambda: (o := bed.get("upskilltables", name)) and condition(o, "Terminal").get("status") == "True" and o,
        15,
        "Terminal",
    )
    terminal = condition(obj, "Terminal")
    assert terminal["reason"] == "InvalidSpec"
    assert terminal["message"] == (
        "spec.globalIndexes[0].partition.type: attribute 'pk' is type S in keys.partition; "
        "an attribute has one type (got N)"
    )
    assert obj["status"]["phase"] == "Failed"
    assert bed.calls.mutating() == []


def test_schema_invalid_spec_is_refused_at_admission(bed: Bed) -> None:
    with pytest.raises(Exception, match=r"spec\.keys\.partition\.type"):
        bed.apply(table_doc(unique("refused"), keys={"partition": {"name": "pk", "type": "X"}}))


def test_key_change_is_refused(bed: Bed, operator: OperatorThread) -> None:
    name = unique("keys")
    bed.apply(table_doc(name))
    ready(bed, name)
    with pytest.raises(Exception, match=r"spec\.keys: immutable after creation"):
        bed.apply(table_doc(name, keys={"partition": {"name": "id", "type": "S"}}))


def test_delete_policies(bed: Bed, operator: OperatorThread) -> None:
    kept, gone, guarded = unique("kept"), unique("gone"), unique("guarded")
    bed.apply(table_doc(kept, deletionPolicy="Retain"))
    bed.apply(table_doc(gone))
    bed.apply(table_doc(guarded, deletionProtection=True))
    for name in (kept, gone, guarded):
        ready(bed, name)
    arns = {name: aws_table(bed, name)["TableName"] for name in (kept, gone, guarded)}
    for name in (kept, gone, guarded):
        bed.delete("upskilltables", name)

    wait_for(lambda: bed.get("upskilltables", kept) is None, 15, "retained resource gone")
    wait_for(lambda: bed.get("upskilltables", gone) is None, 15, "deleted resource gone")
    assert arns[kept] in table_names(bed)
    assert arns[gone] not in table_names(bed)

    blocked = wait_for(
        lambda: (
            condition(bed.get("upskilltables", guarded), "Terminal").get("reason") == "DeletionProtected"
            and bed.get("upskilltables", guarded)
        ),
        15,
        "deletion blocked",
    )
    assert blocked["status"]["phase"] == "Deleting"
    assert arns[guarded] in table_names(bed)
    bed.kube.apply_manifest(
        {**table_doc(guarded, deletionProtection=False), "metadata": {"name": guarded, "namespace": NAMESPACE}}
    )
    wait_for(lambda: bed.get("upskilltables", guarded) is None, 20, "unprotected resource deleted")
    assert arns[guarded] not in table_names(bed)


def test_foreign_table_is_never_touched(bed: Bed, operator: OperatorThread) -> None:
    name = unique("foreign")
    ddb = bed.boto("dynamodb")
    ddb.create_table(
        TableName=f"upskill-{NAMESPACE}-{name}",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        Tags=[{"Key": "upskill.io/owner", "Value": "someone/else"}],
    )
    bed.calls.clear()
    bed.apply(table_doc(name))
    obj = wait_for(
        lambda: (o := bed.get("upskilltables", name)) and condition(o, "Terminal").get("status") == "True" and o,
        15,
        "Terminal",
    )
    assert condition(obj, "Terminal")["reason"] == "ForeignOwner"
    assert "someone/else" in condition(obj, "Terminal")["message"]
    assert [c for c in bed.calls.mutating() if c[0] == "dynamodb"] == []


def test_restart_midway_leaves_one_table_and_loses_no_change(bed: Bed) -> None:
    name = unique("crash")
    created = threading.Event()

    def stop_after_create(service: str, operation: str) -> None:
        if operation == "CreateTable":
            created.set()

    bed.hooks.attempts.append(stop_after_create)
    try:
        bed.start_operator()
        bed.apply(table_doc(name))
        assert created.wait(15)
        bed.stop_operator()  # the operator dies around its first write
    finally:
        bed.hooks.attempts.remove(stop_after_create)
    bed.apply(table_doc(name, ttlAttribute="purgeAt"))  # a change made while it was down
    bed.start_operator()
    try:
        ready(bed, name)
    finally:
        bed.stop_operator()
    expected = f"upskill-{NAMESPACE}-{name}"
    assert table_names(bed).count(expected) == 1
    ddb = bed.boto("dynamodb")
    assert ddb.describe_time_to_live(TableName=expected)["TimeToLiveDescription"]["AttributeName"] == "purgeAt"
