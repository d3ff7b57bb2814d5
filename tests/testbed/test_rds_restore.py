"""The bed's restore calls, through boto3 over HTTP: AWS's answers where moto 5.2.5 had none or others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from upskill_sandbox.aws import MotoServer, Seed

REGION = "us-east-1"


@pytest.fixture
def rds(server: MotoServer, seed: Seed) -> Any:
    client = boto3.client(
        "rds", endpoint_url=server.url, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )
    client.create_db_subnet_group(DBSubnetGroupName="g", DBSubnetGroupDescription="d", SubnetIds=list(seed.subnet_ids))
    client.create_db_cluster(
        DBClusterIdentifier="src",
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        DatabaseName="course",
        MasterUsername="app_admin",
        ManageMasterUserPassword=True,
        DBSubnetGroupName="g",
        StorageEncrypted=True,
        CopyTagsToSnapshot=True,
        Tags=[{"Key": "upskill.io/owner", "Value": "ns/src"}],
    )
    client.create_db_cluster_snapshot(DBClusterIdentifier="src", DBClusterSnapshotIdentifier="src-snap")
    return client


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def restore(rds: Any, name: str, **extra: Any) -> dict[str, Any]:
    params = {"DBClusterIdentifier": name, "SnapshotIdentifier": "src-snap", "Engine": "aurora-postgresql", **extra}
    found: dict[str, Any] = rds.restore_db_cluster_from_snapshot(**params)["DBCluster"]
    return found


def test_a_restored_cluster_has_the_snapshots_data_settings_and_the_requests_tags(rds: Any) -> None:
    found = restore(rds, "back", DBSubnetGroupName="g", Tags=[{"Key": "upskill.io/owner", "Value": "ns/back"}])
    assert (found["Engine"], found["EngineVersion"], found["DatabaseName"]) == ("aurora-postgresql", "16.4", "course")
    assert found["MasterUsername"] == "app_admin"
    assert found["TagList"] == [{"Key": "upskill.io/owner", "Value": "ns/back"}]
    assert "MasterUserSecret" not in found  # RDS takes no ManageMasterUserPassword on a restore
    assert found["StorageEncrypted"] is True
    assert found["KmsKeyId"].startswith("arn:aws:kms:")  # the account's aws/rds key, as AWS reports it
    rds.modify_db_cluster(DBClusterIdentifier="back", ManageMasterUserPassword=True, ApplyImmediately=True)
    cluster = rds.describe_db_clusters(DBClusterIdentifier="back")["DBClusters"][0]
    assert (
        cluster["MasterUserSecret"]["SecretArn"]
        != rds.describe_db_clusters(DBClusterIdentifier="src")["DBClusters"][0]["MasterUserSecret"]["SecretArn"]
    )


def test_restores_refuse_what_aws_refuses(rds: Any, server: MotoServer) -> None:
    with pytest.raises(ClientError) as missing:
        restore(rds, "x1", SnapshotIdentifier="no-such-snapshot")
    assert code(missing) == "DBClusterSnapshotNotFoundFault"
    with pytest.raises(ClientError) as engine:
        restore(rds, "x2", Engine="aurora-mysql")
    assert code(engine) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as downgrade:
        restore(rds, "x3", EngineVersion="16.2")
    assert code(downgrade) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as taken:
        restore(rds, "src")
    assert code(taken) == "DBClusterAlreadyExistsFault"
    server.rds.final_snapshot_describes = 100
    rds.delete_db_cluster(DBClusterIdentifier="src", FinalDBSnapshotIdentifier="src-final-1")
    with pytest.raises(ClientError) as creating:
        restore(rds, "x4", SnapshotIdentifier="src-final-1")
    assert code(creating) == "InvalidDBClusterSnapshotStateFault"


def test_a_point_in_time_must_lie_inside_the_window(rds: Any) -> None:
    source = rds.describe_db_clusters(DBClusterIdentifier="src")["DBClusters"][0]
    assert source["EarliestRestorableTime"] <= source["LatestRestorableTime"]
    with pytest.raises(ClientError) as early:
        rds.restore_db_cluster_to_point_in_time(
            DBClusterIdentifier="pit",
            SourceDBClusterIdentifier="src",
            RestoreToTime=datetime.now(UTC) - timedelta(days=1),
        )
    assert code(early) == "InvalidRestoreFault"
    found = rds.restore_db_cluster_to_point_in_time(
        DBClusterIdentifier="pit", SourceDBClusterIdentifier="src", UseLatestRestorableTime=True, Tags=[]
    )["DBCluster"]
    assert "MasterUserSecret" not in found
    assert found["TagList"] == []  # the request's tags, not the source's


def test_a_cluster_made_again_under_a_deleted_ones_name_within_the_minute(rds: Any) -> None:
    rds.delete_db_cluster(DBClusterIdentifier="src", FinalDBSnapshotIdentifier="src-final-2")
    found = restore(rds, "src", SnapshotIdentifier="src-final-2")  # moto: its automated snapshot name collided
    assert found["DBClusterIdentifier"] == "src"
