"""UpskillTable through the real engine and adapter, against a moto server over HTTP.

Every expectation is checked in AWS with a separate boto3 client, not through
the adapter under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.kms import Kms
from upskill_operator.reconcile.outcome import State

from integration.conftest import CallCounter
from integration.table_driver import OWNERSHIP, TABLE, Driver, base_spec, gsi

OBSERVE_READS = [
    ("dynamodb", "DescribeTable"),
    ("dynamodb", "DescribeTimeToLive"),
    ("dynamodb", "DescribeContinuousBackups"),
    ("dynamodb", "ListTagsOfResource"),
]

FULL_SPEC = base_spec(
    globalIndexes=[
        gsi("byUser", "userId", "createdAt"),
        gsi("byKind", "kind", projection="INCLUDE", nonKeyAttributes=["title", "body", "at"]),
    ],
    ttlAttribute="expiresAt",
    stream="NEW_AND_OLD_IMAGES",
    pointInTimeRecovery={"enabled": True, "recoveryPeriodDays": 7},
    encryption={"kmsKeyId": "alias/upskill"},
    deletionProtection=True,
    tags={"team": "growth", "cost-center": "42"},
)


def aws_table(boto: Any) -> dict[str, Any]:
    table: dict[str, Any] = boto.describe_table(TableName=TABLE)["Table"]
    return table


def aws_tags(boto: Any) -> dict[str, str]:
    pages = boto.get_paginator("list_tags_of_resource").paginate(ResourceArn=aws_table(boto)["TableArn"])
    return {t["Key"]: t["Value"] for page in pages for t in page["Tags"]}


def aws_indexes(boto: Any) -> dict[str, dict[str, Any]]:
    return {i["IndexName"]: i for i in aws_table(boto).get("GlobalSecondaryIndexes", [])}


def aws_ttl(boto: Any) -> dict[str, Any]:
    ttl: dict[str, Any] = boto.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    return ttl


def aws_pitr(boto: Any) -> dict[str, Any]:
    backups = boto.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    pitr: dict[str, Any] = backups["PointInTimeRecoveryDescription"]
    return pitr


@pytest.fixture
def driver(dynamodb: DynamoDB, kms: Kms, kms_key: str) -> Driver:
    return Driver(dynamodb, kms, base_spec())


def test_create_applies_every_field(driver: Driver, boto_dynamodb: Any, kms_key: str) -> None:
    driver.spec = FULL_SPEC
    outcome = driver.reconcile()
    assert (outcome.state, outcome.reason) == (State.READY, "Available"), outcome.message
    assert outcome.writes == 2  # CreateTable, then TTL + PITR once the table is ACTIVE

    table = aws_table(boto_dynamodb)
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
        ("pk", "S"),
        ("sk", "S"),
        ("userId", "S"),
        ("createdAt", "N"),
        ("kind", "S"),
    }
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    indexes = aws_indexes(boto_dynamodb)
    assert [k["AttributeName"] for k in indexes["byUser"]["KeySchema"]] == ["userId", "createdAt"]
    assert indexes["byUser"]["Projection"] == {"ProjectionType": "ALL"}
    assert indexes["byKind"]["Projection"]["ProjectionType"] == "INCLUDE"
    assert sorted(indexes["byKind"]["Projection"]["NonKeyAttributes"]) == ["at", "body", "title"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["SSEDescription"]["KMSMasterKeyArn"] == kms_key  # the alias, resolved
    assert table["DeletionProtectionEnabled"] is True
    assert aws_ttl(boto_dynamodb) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
    assert aws_pitr(boto_dynamodb)["PointInTimeRecoveryStatus"] == "ENABLED"
    assert aws_pitr(boto_dynamodb)["RecoveryPeriodInDays"] == 7
    assert aws_tags(boto_dynamodb) == {**OWNERSHIP, "team": "growth", "cost-center": "42"}

    assert outcome.outputs == {
        "tableName": TABLE,
        "arn": table["TableArn"],
        "streamArn": table["LatestStreamArn"],
        "tableStatus": "ACTIVE",
        "managedTagKeys": sorted([*OWNERSHIP, "team", "cost-center"]),
        "restoredFrom": None,  # not a restore: published as null, so a table re-created empty drops an old record
    }


def test_steady_state_pass_reads_four_times_and_writes_nothing(driver: Driver, calls: CallCounter) -> None:
    driver.spec = FULL_SPEC  # SSE by alias included: it must compare equal to the ARN DynamoDB reports
    assert driver.reconcile().state is State.READY
    calls.clear()

    outcome = driver.reconcile()

    assert (outcome.state, outcome.writes) == (State.READY, 0)
    assert calls.calls == OBSERVE_READS  # the KMS alias is cached: no DescribeKey
    assert calls.writes() == []


def test_default_spec_turns_pitr_on_for_35_days(driver: Driver, boto_dynamodb: Any) -> None:
    assert driver.reconcile().state is State.READY
    assert aws_pitr(boto_dynamodb)["PointInTimeRecoveryStatus"] == "ENABLED"
    assert aws_pitr(boto_dynamodb)["RecoveryPeriodInDays"] == 35
    assert "SSEDescription" not in aws_table(boto_dynamodb)
    assert aws_ttl(boto_dynamodb)["TimeToLiveStatus"] == "DISABLED"


def test_indexes_are_added_and_removed_one_per_update(driver: Driver, boto_dynamodb: Any, calls: CallCounter) -> None:
    driver.change(globalIndexes=[gsi("byUser", "userId")])
    assert driver.reconcile().state is State.READY

    calls.clear()
    driver.change(globalIndexes=[gsi("byUser", "userId"), gsi("byKind", "kind"), gsi("byDay", "day", "at")])
    outcome = driver.reconcile()
    assert (outcome.state, outcome.writes) == (State.READY, 2)
    assert calls.writes() == [("dynamodb", "UpdateTable")] * 2
    assert set(aws_indexes(boto_dynamodb)) == {"byUser", "byKind", "byDay"}
    defined = {a["AttributeName"] for a in aws_table(boto_dynamodb)["AttributeDefinitions"]}
    assert {"pk", "sk", "userId", "kind", "day", "at"} <= defined

    driver.change(globalIndexes=[gsi("byDay", "day", "at")])
    outcome = driver.reconcile()
    assert (outcome.state, outcome.writes) == (State.READY, 2)
    assert set(aws_indexes(boto_dynamodb)) == {"byDay"}

    # Same name, new keys: AWS cannot alter an index, so it is deleted, then created again.
    driver.change(globalIndexes=[gsi("byDay", "day", "hour")])
    outcome = driver.reconcile()
    assert (outcome.state, outcome.writes) == (State.READY, 2)
    assert [k["AttributeName"] for k in aws_indexes(boto_dynamodb)["byDay"]["KeySchema"]] == ["day", "hour"]


def test_ttl_is_enabled_renamed_and_disabled(driver: Driver, boto_dynamodb: Any) -> None:
    driver.change(ttlAttribute="expiresAt")
    assert driver.reconcile().state is State.READY
    assert aws_ttl(boto_dynamodb) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}

    driver.change(ttlAttribute="deleteAfter")
    outcome = driver.reconcile()
    assert (outcome.state, outcome.writes) == (State.READY, 2)  # disable, then enable with the new name
    assert aws_ttl(boto_dynamodb) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "deleteAfter"}

    driver.change(ttlAttribute=None)
    assert driver.reconcile().state is State.READY
    assert aws_ttl(boto_dynamodb)["TimeToLiveStatus"] == "DISABLED"


def test_pitr_is_toggled_and_its_period_changed(driver: Driver, boto_dynamodb: Any) -> None:
    assert driver.reconcile().state is State.READY
    for pitr, want in [
        ({"enabled": True, "recoveryPeriodDays": 7}, ("ENABLED", 7)),
        ({"enabled": False}, ("DISABLED", None)),
        ({"enabled": True, "recoveryPeriodDays": 14}, ("ENABLED", 14)),
    ]:
        outcome = driver.change(pointInTimeRecovery=pitr).reconcile()
        assert (outcome.state, outcome.writes) == (State.READY, 1)
        got = aws_pitr(boto_dynamodb)
        assert (got["PointInTimeRecoveryStatus"], got.get("RecoveryPeriodInDays")) == want


def test_stream_is_enabled_then_disabled(driver: Driver, boto_dynamodb: Any) -> None:
    assert driver.reconcile().outputs["streamArn"] is None
    outcome = driver.change(stream="KEYS_ONLY").reconcile()
    assert outcome.state is State.READY
    table = aws_table(boto_dynamodb)
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    assert outcome.outputs["streamArn"] == table["LatestStreamArn"]

    outcome = driver.change(stream=None).reconcile()
    assert outcome.state is State.READY
    assert not aws_table(boto_dynamodb).get("StreamSpecification", {}).get("StreamEnabled")
    assert outcome.outputs["streamArn"] is None


def test_tags_change_removes_only_tags_the_operator_set(driver: Driver, boto_dynamodb: Any) -> None:
    driver.change(tags={"team": "growth", "tier": "gold"})
    assert driver.reconcile().state is State.READY
    arn = aws_table(boto_dynamodb)["TableArn"]
    boto_dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "finops", "Value": "keep-me"}])

    outcome = driver.change(tags={"team": "platform", "env": "prod"}).reconcile()

    assert (outcome.state, outcome.writes) == (State.READY, 1)
    assert aws_tags(boto_dynamodb) == {**OWNERSHIP, "team": "platform", "env": "prod", "finops": "keep-me"}
    assert outcome.outputs["managedTagKeys"] == sorted([*OWNERSHIP, "team", "env"])


def test_many_tags_are_read_across_pages(driver: Driver, boto_dynamodb: Any, calls: CallCounter) -> None:
    many = {f"k{i:02}": str(i) for i in range(14)}  # with ownership tags, 16: moto pages by 10
    assert driver.change(tags=many).reconcile().state is State.READY
    assert aws_tags(boto_dynamodb) == {**OWNERSHIP, **many}
    calls.clear()
    outcome = driver.reconcile()
    assert (outcome.state, outcome.writes) == (State.READY, 0)
    assert calls.calls.count(("dynamodb", "ListTagsOfResource")) == 2


def test_deletion_protection_follows_the_spec(driver: Driver, boto_dynamodb: Any) -> None:
    assert driver.reconcile().state is State.READY
    assert aws_table(boto_dynamodb)["DeletionProtectionEnabled"] is False
    assert driver.change(deletionProtection=True).reconcile().state is State.READY
    assert aws_table(boto_dynamodb)["DeletionProtectionEnabled"] is True
    assert driver.change(deletionProtection=False).reconcile().state is State.READY
    assert aws_table(boto_dynamodb)["DeletionProtectionEnabled"] is False
