"""The backup and restore façade against botocore's service model (Stubber): the requests are valid DynamoDB."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.stub import Stubber

from upskill_operator.aws.dynamodb_backups import DynamoDBBackups
from upskill_operator.errors import NotFoundError, RecoverableError

from unit.stubbed_aws import stubbed

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/upskill-e2e-src/backup/01700000000000-abcdef12"
TABLE = {"TableName": "upskill-e2e-new", "TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/upskill-e2e-new"}
INDEX = {
    "IndexName": "byUser",
    "KeySchema": [{"AttributeName": "u", "KeyType": "HASH"}],
    "Projection": {"ProjectionType": "ALL"},
}


@pytest.fixture
def backups() -> tuple[DynamoDBBackups, Stubber]:
    return stubbed(DynamoDBBackups)


def test_a_point_in_time_restore_sends_the_time_or_latest_and_the_overrides(
    backups: tuple[DynamoDBBackups, Stubber],
) -> None:
    facade, stub = backups
    at = dt.datetime(2026, 12, 3, 5, 0, tzinfo=dt.UTC)
    common = {
        "SourceTableName": "upskill-e2e-src",
        "TargetTableName": "upskill-e2e-new",
        "BillingModeOverride": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexOverride": [INDEX],
    }
    stub.add_response(
        "restore_table_to_point_in_time",
        {"TableDescription": TABLE},
        {**common, "RestoreDateTime": at, "SSESpecificationOverride": {"Enabled": False}},
    )
    sse = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "arn:aws:kms:us-east-1:123456789012:key/k"}
    stub.add_response(
        "restore_table_to_point_in_time",
        {"TableDescription": TABLE},
        {**common, "UseLatestRestorableTime": True, "SSESpecificationOverride": sse},
    )
    assert (
        facade.restore_to_point_in_time("upskill-e2e-new", "upskill-e2e-src", at=at, global_indexes=[INDEX], sse=None)
        == TABLE
    )
    facade.restore_to_point_in_time("upskill-e2e-new", "upskill-e2e-src", at=None, global_indexes=[INDEX], sse=sse)
    stub.assert_no_pending_responses()


def test_backup_calls_and_their_errors(backups: tuple[DynamoDBBackups, Stubber]) -> None:
    facade, stub = backups
    details = {
        "BackupArn": ARN,
        "BackupName": "upskill-e2e-src-b1",
        "BackupStatus": "CREATING",
        "BackupType": "USER",
        "BackupCreationDateTime": dt.datetime(2026, 12, 3, tzinfo=dt.UTC),
    }
    stub.add_response(
        "create_backup",
        {"BackupDetails": details},
        {"TableName": "upskill-e2e-src", "BackupName": "upskill-e2e-src-b1"},
    )
    stub.add_client_error("describe_backup", "BackupNotFoundException", expected_params={"BackupArn": ARN})
    stub.add_client_error(
        "create_backup", "BackupInUseException", expected_params={"TableName": "t-x", "BackupName": "t-x-b"}
    )
    assert facade.create_backup("upskill-e2e-src", "upskill-e2e-src-b1")["BackupStatus"] == "CREATING"
    with pytest.raises(NotFoundError):
        facade.describe_backup(ARN)
    with pytest.raises(RecoverableError):  # another backup of the table is being made: wait, not a broken spec
        facade.create_backup("t-x", "t-x-b")
