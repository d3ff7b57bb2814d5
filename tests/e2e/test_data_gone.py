"""A data-bearing object deleted behind the operator's back is not re-created empty without an approval.

Emulated beyond moto: the system backup AWS keeps of a deleted table with point-in-time recovery
(:mod:`upskill_sandbox.dynamodb_extension`).

For each kind: the AWS object is deleted with plain boto3 after the resource was Ready; the
resource goes Terminal (``DataObjectGone``) naming the object and its latest snapshot or backup,
with no create call; an approval that does not match (a stale one) changes nothing; the exact
annotation the message names re-creates it empty, and the resource is Ready again.
"""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.models.common import API_GROUP, API_VERSION
from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import NAMESPACE, Bed, condition, wait_for
from e2e.db_support import database_operator, unique
from e2e.safety_support import (
    DATABASES,
    SECRETS,
    TABLES,
    Cloud,
    Objects,
    aws_name,
    database_doc,
    secret_doc,
    table_doc,
)

pytestmark = pytest.mark.e2e

ANNOTATION = "upskill.io/recreate-empty"


def annotate(objects: Objects, plural: str, name: str, value: str) -> None:
    body = {"metadata": {"annotations": {ANNOTATION: value}}}
    objects.custom.patch_namespaced_custom_object(API_GROUP, API_VERSION, NAMESPACE, plural, name, body)


def lost(objects: Objects, plural: str, name: str, timeout: float = 30) -> dict[str, Any]:
    """Wait for Terminal DataObjectGone; returns the object."""
    return wait_for(
        lambda: (
            (o := objects.get(plural, NAMESPACE, name))
            and condition(o, "Terminal").get("reason") == "DataObjectGone"
            and (o.get("status") or {}).get("dataObjectGone")
            and o
        ),
        timeout,
        f"{plural}/{name} Terminal DataObjectGone",
    )


def count(bed: Bed, operation: str) -> int:
    return sum(1 for call in list(bed.calls.calls) if call[1] == operation)


def refuse_then_approve(
    bed: Bed, objects: Objects, plural: str, name: str, calls: tuple[str, str], named: tuple[str, ...]
) -> dict[str, Any]:
    """The refusal, a stale approval that changes nothing, then the approval that re-creates it.

    ``calls`` is (the create operation, the describe each pass makes of the object).
    """
    create, describe = calls
    obj = lost(objects, plural, name)
    record = obj["status"]["dataObjectGone"]
    approval = f"{record['object']}@{record['since']}"
    message = condition(obj, "Terminal")["message"]
    for text in (*named, "is gone from AWS", f'{ANNOTATION}: "{approval}"'):
        assert text in message
    assert obj["status"]["phase"] == "Failed"
    assert condition(obj, "Ready")["status"] == "False"
    assert count(bed, create) == 0

    annotate(objects, plural, name, f"{record['object']}@2020-01-01T00:00:00Z")  # a loss long ago: stale
    passes = count(bed, describe)
    wait_for(lambda: count(bed, describe) >= passes + 3, 30, "passes after the stale approval")
    assert count(bed, create) == 0
    assert lost(objects, plural, name)["status"]["dataObjectGone"] == record  # the first `since` is kept

    annotate(objects, plural, name, approval)
    again = objects.ready(plural, NAMESPACE, name, timeout=90)
    assert count(bed, create) == 1
    assert "dataObjectGone" not in again["status"]  # cleared: the same annotation cannot approve a later loss
    return again


def test_a_table_deleted_behind_our_back_names_its_backup_and_waits_for_approval(
    bed: Bed, operator: OperatorThread, objects: Objects
) -> None:
    name, cloud = unique("lost"), Cloud(bed)
    table = aws_name(NAMESPACE, name)
    bed.apply(table_doc(NAMESPACE, name, deletionProtection=False, deletionPolicy="Delete"))
    objects.ready(TABLES, NAMESPACE, name)
    cloud.ddb.put_item(TableName=table, Item={"pk": {"S": "learner-1"}})
    cloud.ddb.create_backup(TableName=table, BackupName=f"{name}-nightly")
    bed.calls.clear()
    cloud.ddb.delete_table(TableName=table)  # point-in-time recovery is on (the default): AWS keeps a system backup
    (system,) = cloud.ddb.list_backups(TableName=table, BackupType="SYSTEM")["BackupSummaries"]

    again = refuse_then_approve(
        bed,
        objects,
        TABLES,
        name,
        ("CreateTable", "DescribeTable"),
        (f"DynamoDB table {table}", f"latest backup is {table}$DeletedTableBackup (SYSTEM", system["BackupArn"]),
    )
    assert cloud.ddb.scan(TableName=table)["Count"] == 0  # re-created empty, as approved
    assert again["status"]["arn"] == cloud.table(NAMESPACE, name)["TableArn"]  # type: ignore[index]
    objects.delete(TABLES, NAMESPACE, name)
    objects.gone(TABLES, NAMESPACE, name)


def test_a_secret_deleted_for_good_says_nothing_can_be_restored(
    bed: Bed, operator: OperatorThread, objects: Objects
) -> None:
    name, cloud = unique("lost"), Cloud(bed)
    bed.apply(secret_doc(NAMESPACE, name))
    first = objects.ready(SECRETS, NAMESPACE, name)["status"]
    bed.calls.clear()
    cloud.sm.delete_secret(SecretId=first["arn"], ForceDeleteWithoutRecovery=True)

    again = refuse_then_approve(
        bed,
        objects,
        SECRETS,
        name,
        ("CreateSecret", "DescribeSecret"),
        (f"secret {first['secretName']}", "cannot be restored"),
    )
    assert again["status"]["arn"] != first["arn"]
    objects.delete(SECRETS, NAMESPACE, name)
    objects.gone(SECRETS, NAMESPACE, name)
    cloud.sm.delete_secret(SecretId=again["status"]["arn"], ForceDeleteWithoutRecovery=True)


def test_a_cluster_deleted_behind_our_back_names_its_latest_snapshot(bed: Bed, objects: Objects) -> None:
    name, cloud = unique("lost"), Cloud(bed)
    identifier = aws_name(NAMESPACE, name)
    with database_operator(bed, pending=0):
        bed.apply(database_doc(NAMESPACE, name, deletionProtection=False, deletionPolicy="Delete"))
        objects.ready(DATABASES, NAMESPACE, name, timeout=90)
        cloud.rds.create_db_cluster_snapshot(DBClusterIdentifier=identifier, DBClusterSnapshotIdentifier=f"{name}-1")
        bed.calls.clear()
        members = cloud.cluster(NAMESPACE, name)["DBClusterMembers"]  # type: ignore[index]
        for member in members:
            cloud.rds.delete_db_instance(DBInstanceIdentifier=member["DBInstanceIdentifier"])
        cloud.rds.delete_db_cluster(DBClusterIdentifier=identifier, FinalDBSnapshotIdentifier=f"{name}-2")

        named = (f"DB cluster {identifier}", f"latest snapshot is {name}-2")  # the final one, taken last
        refuse_then_approve(bed, objects, DATABASES, name, ("CreateDBCluster", "DescribeDBClusters"), named)
        assert cloud.cluster(NAMESPACE, name) is not None
