"""The test bed's final snapshots, through boto3 over HTTP: the cluster stays until its snapshot is available."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from upskill_sandbox.aws import MotoServer, Seed

REGION = "us-east-1"


@pytest.fixture
def rds(server: MotoServer) -> Any:
    return boto3.client(
        "rds", endpoint_url=server.url, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )


def cluster(rds: Any, seed: Seed, name: str) -> None:
    rds.create_db_subnet_group(DBSubnetGroupName=name, DBSubnetGroupDescription="d", SubnetIds=list(seed.subnet_ids))
    rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        MasterUsername="app_admin",
        MasterUserPassword="password-1234",
        DBSubnetGroupName=name,
        CopyTagsToSnapshot=True,
        Tags=[{"Key": "team", "Value": "learning"}],
    )


def snapshot(rds: Any, name: str) -> dict[str, Any]:
    found: dict[str, Any] = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=name)["DBClusterSnapshots"][0]
    return found


def clusters(rds: Any, name: str) -> list[dict[str, Any]]:
    return [c for c in rds.describe_db_clusters()["DBClusters"] if c["DBClusterIdentifier"] == name]


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_cluster_stays_deleting_until_its_final_snapshot_is_available(server: MotoServer, seed: Seed, rds: Any) -> None:
    cluster(rds, seed, "c1")
    server.rds.final_snapshot_describes = 4
    deleted = rds.delete_db_cluster(DBClusterIdentifier="c1", FinalDBSnapshotIdentifier="c1-final")["DBCluster"]
    assert deleted["Status"] == "deleting"

    # Four describes (of the snapshot or of the cluster, each counts) see the deletion under way.
    assert snapshot(rds, "c1-final")["Status"] == "creating"
    assert [c["Status"] for c in clusters(rds, "c1")] == ["deleting"]
    for call, fault in (
        (
            lambda: rds.modify_db_cluster(DBClusterIdentifier="c1", BackupRetentionPeriod=3),
            "InvalidDBClusterStateFault",
        ),
        (lambda: rds.delete_db_cluster(DBClusterIdentifier="c1", SkipFinalSnapshot=True), "InvalidDBClusterStateFault"),
        (lambda: rds.delete_db_subnet_group(DBSubnetGroupName="c1"), "InvalidDBSubnetGroupStateFault"),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert code(refused) == fault
    assert 0 < snapshot(rds, "c1-final")["PercentProgress"] < 100
    assert [c["Status"] for c in clusters(rds, "c1")] == ["deleting"]

    done = snapshot(rds, "c1-final")
    assert (done["Status"], done["PercentProgress"]) == ("available", 100)
    assert {t["Key"]: t["Value"] for t in done["TagList"]} == {"team": "learning"}
    assert clusters(rds, "c1") == []
    rds.delete_db_subnet_group(DBSubnetGroupName="c1")


def test_a_held_snapshot_is_released_by_lowering_the_knob(server: MotoServer, seed: Seed, rds: Any) -> None:
    cluster(rds, seed, "c2")
    server.rds.final_snapshot_describes = 1_000_000
    rds.delete_db_cluster(DBClusterIdentifier="c2", FinalDBSnapshotIdentifier="c2-final")
    for _ in range(5):
        assert [c["Status"] for c in clusters(rds, "c2")] == ["deleting"]
    assert snapshot(rds, "c2-final")["Status"] == "creating"

    server.rds.final_snapshot_describes = 0
    assert clusters(rds, "c2") == []
    assert snapshot(rds, "c2-final")["Status"] == "available"


def test_without_the_knob_or_without_a_snapshot_deletion_is_instant(server: MotoServer, seed: Seed, rds: Any) -> None:
    cluster(rds, seed, "c3")
    cluster(rds, seed, "c4")
    rds.delete_db_cluster(DBClusterIdentifier="c3", FinalDBSnapshotIdentifier="c3-final")
    assert clusters(rds, "c3") == []
    assert snapshot(rds, "c3-final")["Status"] == "available"

    server.rds.final_snapshot_describes = 5
    rds.delete_db_cluster(DBClusterIdentifier="c4", SkipFinalSnapshot=True)
    assert clusters(rds, "c4") == []
