"""The bed's DynamoDB restores, through boto3 over HTTP: the items as of the time, the window, AWS's errors."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from upskill_sandbox import dynamodb_restore
from upskill_sandbox.aws import MotoServer

from testbed.test_dynamodb_extension import table

REGION = "us-east-1"


@pytest.fixture
def ddb(server: MotoServer) -> Iterator[Any]:
    server.reset()
    lag, creating = dynamodb_restore.LAG, dynamodb_restore.BACKUP_CREATING_DESCRIBES
    dynamodb_restore.LAG = 0.2
    yield server.client("dynamodb", REGION)
    dynamodb_restore.LAG, dynamodb_restore.BACKUP_CREATING_DESCRIBES = lag, creating


def keys(ddb: Any, name: str) -> list[str]:
    return sorted(item["pk"]["S"] for item in ddb.scan(TableName=name)["Items"])


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_a_point_in_time_restore_holds_the_items_of_that_time(ddb: Any) -> None:
    table(ddb, "src")
    ddb.put_item(TableName="src", Item={"pk": {"S": "first"}})
    time.sleep(0.05)
    between = dt.datetime.now(dt.UTC)
    time.sleep(0.05)
    ddb.batch_write_item(RequestItems={"src": [{"PutRequest": {"Item": {"pk": {"S": "second"}}}}]})
    ddb.delete_item(TableName="src", Key={"pk": {"S": "first"}})
    time.sleep(0.3)  # past the lag: the window now covers every write above
    ddb.restore_table_to_point_in_time(SourceTableName="src", TargetTableName="then", RestoreDateTime=between)
    ddb.restore_table_to_point_in_time(SourceTableName="src", TargetTableName="now", UseLatestRestorableTime=True)
    assert keys(ddb, "then") == ["first"]
    assert keys(ddb, "now") == ["second"]
    assert keys(ddb, "src") == ["second"]


def test_the_window_is_live_and_a_time_outside_it_is_refused(ddb: Any) -> None:
    table(ddb, "src")
    time.sleep(0.3)
    pitr = ddb.describe_continuous_backups(TableName="src")["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"
    ]
    assert pitr["EarliestRestorableDateTime"] < pitr["LatestRestorableDateTime"] < dt.datetime.now(dt.UTC)
    for at in (pitr["EarliestRestorableDateTime"] - dt.timedelta(seconds=5), dt.datetime.now(dt.UTC)):
        with pytest.raises(ClientError) as refused:
            ddb.restore_table_to_point_in_time(SourceTableName="src", TargetTableName="xxx", RestoreDateTime=at)
        assert code(refused) == "InvalidRestoreTimeException"
    assert "xxx" not in ddb.list_tables()["TableNames"]


def test_restore_errors_are_aws_error_codes(ddb: Any) -> None:
    table(ddb, "off", pitr=False)
    table(ddb, "taken")
    cases = [
        ({"SourceTableName": "missing", "TargetTableName": "ttt"}, "SourceTableNotFoundException"),
        ({"SourceTableName": "off", "TargetTableName": "ttt"}, "PointInTimeRecoveryUnavailableException"),
        ({"SourceTableName": "taken", "TargetTableName": "off"}, "TableAlreadyExistsException"),
    ]
    for params, expected in cases:
        with pytest.raises(ClientError) as refused:
            ddb.restore_table_to_point_in_time(UseLatestRestorableTime=True, **params)
        assert code(refused) == expected
    with pytest.raises(ClientError) as refused:
        ddb.restore_table_from_backup(
            TargetTableName="ttt", BackupArn="arn:aws:dynamodb:us-east-1:123456789012:table/off/backup/01-x"
        )
    assert code(refused) == "BackupNotFoundException"


def test_a_backup_holds_the_items_at_its_creation_and_waits_while_creating(ddb: Any) -> None:
    table(ddb, "src", pitr=False)
    ddb.put_item(TableName="src", Item={"pk": {"S": "before"}})
    dynamodb_restore.BACKUP_CREATING_DESCRIBES = 2
    arn = ddb.create_backup(TableName="src", BackupName="src-b1")["BackupDetails"]["BackupArn"]
    ddb.put_item(TableName="src", Item={"pk": {"S": "after"}})
    with pytest.raises(ClientError) as refused:
        ddb.restore_table_from_backup(TargetTableName="copy", BackupArn=arn)
    assert code(refused) == "BackupInUseException"
    with pytest.raises(ClientError) as busy:
        ddb.create_backup(TableName="src", BackupName="src-b2")
    assert code(busy) == "BackupInUseException"
    states = [
        ddb.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]["BackupStatus"] for _ in range(3)
    ]
    assert states == ["CREATING", "CREATING", "AVAILABLE"]
    ddb.restore_table_from_backup(TargetTableName="copy", BackupArn=arn)
    assert keys(ddb, "copy") == ["before"]


def test_a_restore_applies_the_overrides_and_carries_no_stream(ddb: Any) -> None:
    ddb.create_table(
        TableName="src",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "u", "AttributeType": "S"},
        ],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        GlobalSecondaryIndexes=[
            {
                "IndexName": name,
                "KeySchema": [{"AttributeName": "u", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            }
            for name in ("keep", "drop")
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    ddb.update_continuous_backups(
        TableName="src", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    keep = {
        "IndexName": "keep",
        "KeySchema": [{"AttributeName": "u", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    ddb.restore_table_to_point_in_time(
        SourceTableName="src",
        TargetTableName="new-table",
        UseLatestRestorableTime=True,
        BillingModeOverride="PAY_PER_REQUEST",
        GlobalSecondaryIndexOverride=[keep],
    )
    new = ddb.describe_table(TableName="new-table")["Table"]
    assert new["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [i["IndexName"] for i in new["GlobalSecondaryIndexes"]] == ["keep"]
    assert not (new.get("StreamSpecification") or {}).get("StreamEnabled")
    assert "SourceTableArn" in new["RestoreSummary"]
    pitr = ddb.describe_continuous_backups(TableName="new-table")["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    assert ddb.list_tags_of_resource(ResourceArn=new["TableArn"])["Tags"] == []
