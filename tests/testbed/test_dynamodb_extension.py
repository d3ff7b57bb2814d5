"""The DynamoDB extension of the moto server, through boto3 over HTTP: what AWS keeps of a deleted table."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from upskill_sandbox.aws import MotoServer

REGION = "us-east-1"


@pytest.fixture
def ddb(server: MotoServer) -> Any:
    server.reset()
    return server.client("dynamodb", REGION)


def table(ddb: Any, name: str, *, pitr: bool = True) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    if pitr:
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )


def listed(ddb: Any, name: str, **kind: str) -> list[tuple[str, str, str]]:
    found = ddb.list_backups(TableName=name, **kind)["BackupSummaries"]
    return sorted((b["BackupName"], b["BackupType"], b["BackupStatus"]) for b in found)


def test_deleting_a_table_with_point_in_time_recovery_leaves_a_system_backup(ddb: Any) -> None:
    table(ddb, "kept", pitr=True)
    ddb.create_backup(TableName="kept", BackupName="nightly")
    ddb.delete_table(TableName="kept")
    assert listed(ddb, "kept", BackupType="ALL") == [
        ("kept$DeletedTableBackup", "SYSTEM", "AVAILABLE"),
        ("nightly", "USER", "AVAILABLE"),
    ]
    assert listed(ddb, "kept") == [("nightly", "USER", "AVAILABLE")]  # USER is ListBackups' default
    assert listed(ddb, "kept", BackupType="SYSTEM") == [("kept$DeletedTableBackup", "SYSTEM", "AVAILABLE")]


def test_without_point_in_time_recovery_nothing_is_left(ddb: Any) -> None:
    table(ddb, "plain", pitr=False)
    ddb.delete_table(TableName="plain")
    assert listed(ddb, "plain", BackupType="ALL") == []


def test_a_refused_delete_leaves_no_backup(ddb: Any) -> None:
    table(ddb, "guarded", pitr=True)
    ddb.update_table(TableName="guarded", DeletionProtectionEnabled=True)
    with pytest.raises(ClientError):
        ddb.delete_table(TableName="guarded")
    assert listed(ddb, "guarded", BackupType="ALL") == []
