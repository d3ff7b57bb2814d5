"""UpskillTable: drift repair, ownership, adoption, immutable keys and deletion, against a moto server."""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.kms import Kms
from upskill_operator.reconcile.outcome import State
from upskill_operator.reconcile.protocol import OWNER_TAG

from integration.conftest import CallCounter
from integration.table_driver import OWNER, OWNERSHIP, TABLE, Driver, base_spec


@pytest.fixture
def driver(dynamodb: DynamoDB, kms: Kms, kms_key: str) -> Driver:
    return Driver(dynamodb, kms, base_spec(ttlAttribute="expiresAt", tags={"team": "growth"}))


def create_out_of_band(boto: Any, tags: dict[str, str] | None = None, key: str = "pk") -> None:
    """A table someone else made, with the name the operator would derive."""
    boto.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": key, "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    )


def tags_of(boto: Any) -> dict[str, str]:
    arn = boto.describe_table(TableName=TABLE)["Table"]["TableArn"]
    return {t["Key"]: t["Value"] for t in boto.list_tags_of_resource(ResourceArn=arn)["Tags"]}


def test_out_of_band_changes_are_repaired_on_the_next_pass(
    driver: Driver, boto_dynamodb: Any, calls: CallCounter
) -> None:
    assert driver.reconcile().state is State.READY
    arn = boto_dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    boto_dynamodb.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expiresAt"}
    )
    boto_dynamodb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    boto_dynamodb.untag_resource(ResourceArn=arn, TagKeys=["team"])
    calls.clear()

    outcome = driver.reconcile()

    assert (outcome.state, outcome.writes) == (State.READY, 1)  # one update() repairs all three
    assert sorted(calls.writes()) == [
        ("dynamodb", "TagResource"),
        ("dynamodb", "UpdateContinuousBackups"),
        ("dynamodb", "UpdateTimeToLive"),
    ]
    ttl = boto_dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
    backups = boto_dynamodb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert tags_of(boto_dynamodb)["team"] == "growth"


def test_foreign_owner_is_refused_and_nothing_is_written(
    driver: Driver, boto_dynamodb: Any, calls: CallCounter
) -> None:
    create_out_of_band(boto_dynamodb, {OWNER_TAG: "other/orders", "team": "theirs"})

    outcome = driver.reconcile()

    assert (outcome.state, outcome.reason) == (State.TERMINAL, "ForeignOwner")
    assert "'other/orders'" in outcome.message
    assert calls.writes() == []
    assert tags_of(boto_dynamodb) == {OWNER_TAG: "other/orders", "team": "theirs"}
    assert "arn" not in outcome.outputs  # nothing of someone else's table is published


def test_untagged_table_needs_adopt_then_is_tagged_and_synced(
    driver: Driver, boto_dynamodb: Any, calls: CallCounter
) -> None:
    create_out_of_band(boto_dynamodb, {"legacy": "yes"})

    outcome = driver.reconcile()
    assert (outcome.state, outcome.reason) == (State.TERMINAL, "AdoptionRequired")
    assert calls.writes() == []

    outcome = driver.change(adopt=True).reconcile()

    assert outcome.state is State.READY, outcome.message
    assert tags_of(boto_dynamodb) == {**OWNERSHIP, "team": "growth", "legacy": "yes"}
    ttl = boto_dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"


def test_key_schema_change_is_terminal_and_writes_nothing(
    driver: Driver, boto_dynamodb: Any, calls: CallCounter
) -> None:
    assert driver.reconcile().state is State.READY
    before = boto_dynamodb.describe_table(TableName=TABLE)["Table"]
    calls.clear()

    driver.change(keys={"partition": {"name": "id", "type": "S"}})
    outcome = driver.reconcile()

    assert (outcome.state, outcome.reason) == (State.TERMINAL, "ImmutableField")
    assert "spec.keys: immutable after creation (AWS has pk:S/sk:S, spec asks id:S)" in outcome.message
    assert calls.writes() == []
    assert boto_dynamodb.describe_table(TableName=TABLE)["Table"]["KeySchema"] == before["KeySchema"]


def test_missing_kms_key_is_terminal_before_anything_is_created(
    driver: Driver, boto_dynamodb: Any, calls: CallCounter
) -> None:
    outcome = driver.change(encryption={"kmsKeyId": "alias/nope"}).reconcile()

    assert (outcome.state, outcome.reason) == (State.TERMINAL, "KmsKeyNotFound")
    assert "alias/nope" in outcome.message
    assert calls.writes() == []
    assert boto_dynamodb.list_tables()["TableNames"] == []


def test_delete_policy_turns_protection_off_then_deletes(
    driver: Driver, boto_dynamodb: Any, calls: CallCounter
) -> None:
    assert driver.change(deletionPolicy="Delete").reconcile().state is State.READY
    boto_dynamodb.update_table(TableName=TABLE, DeletionProtectionEnabled=True)  # left on out of band
    calls.clear()

    outcome = driver.finalize()

    assert (outcome.state, outcome.reason) == (State.DELETED, "Deleted"), outcome.message
    assert calls.writes() == [("dynamodb", "UpdateTable"), ("dynamodb", "DeleteTable")]
    assert boto_dynamodb.list_tables()["TableNames"] == []


def test_delete_policy_with_spec_protection_is_blocked(driver: Driver, boto_dynamodb: Any) -> None:
    assert driver.change(deletionPolicy="Delete", deletionProtection=True).reconcile().state is State.READY

    outcome = driver.finalize()

    assert (outcome.state, outcome.reason) == (State.BLOCKED, "DeletionProtected")
    assert boto_dynamodb.list_tables()["TableNames"] == [TABLE]


def test_retain_policy_keeps_the_table(driver: Driver, boto_dynamodb: Any, calls: CallCounter) -> None:
    assert driver.reconcile().state is State.READY
    calls.clear()

    outcome = driver.finalize()

    assert (outcome.state, outcome.reason) == (State.DELETED, "Retained")
    assert calls.calls == []
    assert boto_dynamodb.list_tables()["TableNames"] == [TABLE]
    assert tags_of(boto_dynamodb)[OWNER_TAG] == OWNER


def test_delete_leaves_a_foreign_table_alone(driver: Driver, boto_dynamodb: Any, calls: CallCounter) -> None:
    create_out_of_band(boto_dynamodb, {OWNER_TAG: "other/orders"})

    outcome = driver.change(deletionPolicy="Delete").finalize()

    assert outcome.state is State.DELETED
    assert "not ours" in outcome.message
    assert calls.writes() == []
    assert boto_dynamodb.list_tables()["TableNames"] == [TABLE]
