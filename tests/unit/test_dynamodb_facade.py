"""The DynamoDB façade and the table adapter's waiting logic, on botocore's Stubber (no network).

moto never shows CREATING tables, CREATING indexes or ENABLING TTL, so those
states are only testable here, with responses validated against the real
service model.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber
from prometheus_client import REGISTRY

from upskill_operator.adapters.table.table import TableAdapter
from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.errors import AwsNotFoundError, AwsRecoverableError, AwsTerminalError
from upskill_operator.aws.kms import Kms
from upskill_operator.errors import OperatorError
from upskill_operator.models.table import TableSpec
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.outcome import State
from upskill_operator.reconcile.protocol import OWNER_TAG, UID_TAG, Target

from unit.stubbed_aws import stubbed

TABLE = "upskill-team-orders"
ARN = f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}"
METRIC = "upskill_aws_api_call_duration_seconds_count"


@pytest.fixture
def ddb() -> Iterator[tuple[DynamoDB, Stubber]]:
    facade, stubber = stubbed(DynamoDB)
    yield facade, stubber
    stubber.assert_no_pending_responses()


def calls_counted(operation: str, outcome: str) -> float:
    labels = {"service": "dynamodb", "operation": operation, "outcome": outcome}
    return REGISTRY.get_sample_value(METRIC, labels) or 0.0


@pytest.mark.parametrize(
    ("code", "status", "error_type", "label"),
    [
        pytest.param("ThrottlingException", 400, AwsRecoverableError, "throttled", id="throttling-recoverable"),
        pytest.param("ResourceInUseException", 400, AwsRecoverableError, "retryable_error", id="in-use-recoverable"),
        pytest.param("InternalServerError", 500, AwsRecoverableError, "retryable_error", id="5xx-recoverable"),
        pytest.param("ValidationException", 400, AwsTerminalError, "client_error", id="validation-terminal"),
        pytest.param("AccessDeniedException", 400, AwsTerminalError, "client_error", id="access-terminal"),
        pytest.param("ResourceNotFoundException", 400, AwsNotFoundError, "not_found", id="not-found"),
    ],
)
def test_errors_are_classified_and_counted(
    ddb: tuple[DynamoDB, Stubber], code: str, status: int, error_type: type[OperatorError], label: str
) -> None:
    facade, stubber = ddb
    stubber.add_client_error("describe_table", code, "boom", status, expected_params={"TableName": TABLE})
    before = calls_counted("DescribeTable", label)

    with pytest.raises(error_type) as caught:
        facade.describe_table(TABLE)

    assert caught.value.reason == code
    assert "dynamodb:DescribeTable failed with " + code in str(caught.value)
    assert calls_counted("DescribeTable", label) == before + 1


def test_successful_calls_are_counted_as_success(ddb: tuple[DynamoDB, Stubber]) -> None:
    facade, stubber = ddb
    stubber.add_response("delete_table", {"TableDescription": {"TableName": TABLE}}, {"TableName": TABLE})
    before = calls_counted("DeleteTable", "success")
    facade.delete_table(TABLE)
    assert calls_counted("DeleteTable", "success") == before + 1


def test_missing_continuous_backups_table_is_not_found(ddb: tuple[DynamoDB, Stubber]) -> None:
    facade, stubber = ddb
    stubber.add_client_error("describe_continuous_backups", "TableNotFoundException", "gone", 400)
    with pytest.raises(AwsNotFoundError):
        facade.describe_continuous_backups(TABLE)


def test_ttl_cooldown_is_recoverable(ddb: tuple[DynamoDB, Stubber]) -> None:
    facade, stubber = ddb
    message = "Time to live has been modified multiple times within a fixed interval"
    stubber.add_client_error("update_time_to_live", "ValidationException", message, 400)
    with pytest.raises(AwsRecoverableError) as caught:
        facade.update_time_to_live(TABLE, enabled=True, attribute_name="expiresAt")
    assert caught.value.reason == "TimeToLiveCooldown"


def test_tags_are_read_across_pages(ddb: tuple[DynamoDB, Stubber]) -> None:
    facade, stubber = ddb
    stubber.add_response("list_tags_of_resource", {"Tags": [{"Key": "a", "Value": "1"}], "NextToken": "a"})
    stubber.add_response(
        "list_tags_of_resource", {"Tags": [{"Key": "b", "Value": "2"}]}, {"ResourceArn": ARN, "NextToken": "a"}
    )
    assert facade.list_tags_of_resource(ARN) == {"a": "1", "b": "2"}


def test_create_table_is_on_demand_with_tags(ddb: tuple[DynamoDB, Stubber]) -> None:
    facade, stubber = ddb
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    defs = [{"AttributeName": "pk", "AttributeType": "S"}]
    expected = {
        "TableName": TABLE,
        "KeySchema": keys,
        "AttributeDefinitions": defs,
        "BillingMode": "PAY_PER_REQUEST",
        "DeletionProtectionEnabled": True,
        "Tags": [{"Key": "team", "Value": "growth"}],
    }
    stubber.add_response("create_table", {"TableDescription": {"TableName": TABLE}}, expected)
    facade.create_table(
        TABLE, key_schema=keys, attribute_definitions=defs, deletion_protection=True, tags={"team": "growth"}
    )


# --- the adapter waits on transitional states instead of writing --------------------------------------------


def describe(status: str = "ACTIVE", index_status: str | None = None) -> dict[str, Any]:
    table: dict[str, Any] = {
        "TableName": TABLE,
        "TableArn": ARN,
        "TableStatus": status,
        "CreationDateTime": datetime(2025, 1, 1, tzinfo=UTC),
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "DeletionProtectionEnabled": False,
    }
    if index_status:
        table["AttributeDefinitions"].append({"AttributeName": "userId", "AttributeType": "S"})
        table["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "byUser",
                "KeySchema": [{"AttributeName": "userId", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "IndexStatus": index_status,
                "Backfilling": index_status == "CREATING",
            }
        ]
    return {"Table": table}


def queue_observe(stubber: Stubber, table: dict[str, Any], ttl_status: str = "DISABLED") -> None:
    ttl: dict[str, Any] = {"TimeToLiveStatus": ttl_status}
    if ttl_status != "DISABLED":
        ttl["AttributeName"] = "expiresAt"
    stubber.add_response("describe_table", table, {"TableName": TABLE})
    stubber.add_response("describe_time_to_live", {"TimeToLiveDescription": ttl}, {"TableName": TABLE})
    backups = {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"},
    }
    stubber.add_response("describe_continuous_backups", {"ContinuousBackupsDescription": backups}, {"TableName": TABLE})
    tags = [{"Key": OWNER_TAG, "Value": "team/orders"}, {"Key": UID_TAG, "Value": "u-1"}]
    stubber.add_response("list_tags_of_resource", {"Tags": tags}, {"ResourceArn": ARN})


def target(**spec: Any) -> Target:
    wire = {"keys": {"partition": {"name": "pk", "type": "S"}}, "deletionProtection": False, **spec}
    return Target("UpskillTable", "team", "orders", "u-1", 1, TableSpec.model_validate(wire))


@pytest.mark.parametrize(
    ("table", "ttl_status", "spec", "pending"),
    [
        pytest.param(describe("CREATING"), "DISABLED", {}, "table is CREATING", id="table-creating"),
        pytest.param(describe("UPDATING"), "DISABLED", {}, "table is UPDATING", id="table-updating"),
        pytest.param(
            describe(index_status="CREATING"),
            "DISABLED",
            {"globalIndexes": [{"name": "byUser", "partition": {"name": "userId", "type": "S"}}]},
            "index byUser is CREATING",
            id="index-creating",
        ),
        pytest.param(
            describe(index_status="DELETING"), "DISABLED", {}, "index byUser is DELETING", id="index-deleting"
        ),
        pytest.param(describe(), "ENABLING", {"ttlAttribute": "expiresAt"}, "TTL is ENABLING", id="ttl-enabling"),
    ],
)
def test_transitional_states_are_pending_and_nothing_is_written(
    ddb: tuple[DynamoDB, Stubber], table: dict[str, Any], ttl_status: str, spec: dict[str, Any], pending: str
) -> None:
    facade, stubber = ddb
    kms, _ = stubbed(Kms)
    queue_observe(stubber, table, ttl_status)  # exactly the four reads: any write would find no stubbed response

    outcome = Engine([TableAdapter(facade, kms, "upskill")]).reconcile(target(**spec))

    assert (outcome.state, outcome.reason, outcome.writes) == (State.PROGRESSING, "Waiting", 0)
    assert outcome.message == f"table: {pending}"
    assert outcome.outputs["tableStatus"] == table["Table"]["TableStatus"]


def test_backups_of_a_table_include_system_ones_and_follow_the_last_evaluated_arn() -> None:
    ddb, stubber = stubbed(DynamoDB)
    one = {"TableName": "tbl", "BackupName": "nightly", "BackupArn": "arn:aws:dynamodb:us-east-1:1:table/tbl/backup/01"}
    two = {
        "TableName": "tbl",
        "BackupName": "tbl$DeletedTableBackup",
        "BackupArn": "arn:aws:dynamodb:us-east-1:1:table/tbl/backup/02",
    }
    stubber.add_response(
        "list_backups",
        {"BackupSummaries": [one], "LastEvaluatedBackupArn": one["BackupArn"]},
        {"TableName": "tbl", "BackupType": "ALL"},
    )
    stubber.add_response(
        "list_backups",
        {"BackupSummaries": [two]},
        {"TableName": "tbl", "BackupType": "ALL", "ExclusiveStartBackupArn": one["BackupArn"]},
    )
    assert ddb.list_backups("tbl") == [one, two]
    stubber.assert_no_pending_responses()
