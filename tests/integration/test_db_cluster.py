"""The cluster and instances adapters against the moto server, transitional states included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from upskill_operator.adapters.database.cluster import ClusterAdapter
from upskill_operator.adapters.database.instances import InstancesAdapter
from upskill_operator.reconcile.outcome import State
from upskill_operator.reconcile.protocol import Adapter
from upskill_sandbox.aws import MotoServer, Seed

from integration.conftest import REGION
from integration.db_driver import PREFIX, UID, Driver, Services, clients, spec_of


@pytest.fixture
def services(moto: MotoServer) -> Services:
    return Services.of(clients(moto))


@pytest.fixture
def pending(moto: MotoServer) -> Iterator[None]:
    moto.rds.pending_describes = 2
    try:
        yield
    finally:
        moto.rds.pending_describes = 0


def network(moto: MotoServer, seed: Seed, name: str = "db") -> dict[str, Any]:
    rds, ec2 = moto.client("rds", REGION), moto.client("ec2", REGION)
    group = f"{PREFIX}-team-{name}"
    rds.create_db_subnet_group(DBSubnetGroupName=group, DBSubnetGroupDescription="d", SubnetIds=list(seed.subnet_ids))
    sg = ec2.create_security_group(GroupName=f"{group}-db", Description="d", VpcId=seed.vpc_id)["GroupId"]
    return {"securityGroupIds": [sg], "vpcId": seed.vpc_id, "subnetIds": list(seed.subnet_ids)}


def steps(services: Services) -> list[Adapter]:
    return [ClusterAdapter(services.rds, services.kms, PREFIX), InstancesAdapter(services.rds, PREFIX)]


def test_course_cluster_waits_then_converges(moto: MotoServer, seed: Seed, services: Services, pending: None) -> None:
    driver = Driver(spec_of("course"), given=network(moto, seed))
    first = driver.run(steps(services))
    assert (first.state, first.message, first.writes) == (State.PROGRESSING, "cluster: cluster is creating", 1)
    messages = [driver.run(steps(services)).message for _ in range(6)]
    assert "instances: instance upskill-team-db-0 is creating" in messages
    assert "instances: instance upskill-team-db-1 is creating" in messages
    outcome = driver.until_settled(steps(services))
    assert outcome.state is State.READY
    rds = moto.client("rds", REGION)
    cluster = rds.describe_db_clusters(DBClusterIdentifier=driver.cluster)["DBClusters"][0]
    key = moto.client("kms", REGION).describe_key(KeyId="alias/upskill")["KeyMetadata"]["Arn"]
    assert (cluster["KmsKeyId"], cluster["StorageEncrypted"]) == (key, True)
    assert outcome.outputs["masterUserSecretArn"] == cluster["MasterUserSecret"]["SecretArn"]
    assert [i["role"] for i in outcome.outputs["instances"]] == ["writer", "reader"]
    assert outcome.outputs["capacity"]["instanceClass"] == "db.t4g.medium"


def test_scaling_and_class_changes_wait_between_steps(moto: MotoServer, seed: Seed, services: Services) -> None:
    driver = Driver(spec_of("course"), given=network(moto, seed))
    assert driver.until_settled(steps(services)).state is State.READY
    moto.rds.pending_describes = 1
    try:
        driver.spec["capacity"] = {"provisioned": {"instanceClass": "db.r6g.large", "readReplicas": 2}}
        driver.spec["backup"] = {"retentionDays": 21}
        outcomes = [driver.run(steps(services)) for _ in range(12)]
    finally:
        moto.rds.pending_describes = 0
    assert outcomes[0].writes == 1
    assert outcomes[0].message == "cluster: cluster is modifying"
    assert outcomes[-1].state is State.READY
    # modify the cluster, create the new reader (already db.r6g.large), then change the two others' class
    assert [o.writes for o in outcomes[:4]] == [1, 1, 1, 1]
    assert sum(o.writes for o in outcomes) == 4
    instances = moto.client("rds", REGION).describe_db_instances()["DBInstances"]
    assert sorted(i["DBInstanceClass"] for i in instances) == ["db.r6g.large"] * 3
    driver.spec["capacity"] = {"provisioned": {"instanceClass": "db.r6g.large", "readReplicas": 0}}
    driver.spec["proxy"]["readOnlyEndpoint"] = False
    assert driver.until_settled(steps(services)).state is State.READY
    remaining = moto.client("rds", REGION).describe_db_clusters(DBClusterIdentifier=driver.cluster)["DBClusters"][0]
    assert [(m["DBInstanceIdentifier"], m["IsClusterWriter"]) for m in remaining["DBClusterMembers"]] == [
        ("upskill-team-db-0", True)
    ]


def test_delete_policies(moto: MotoServer, seed: Seed, services: Services) -> None:
    rds = moto.client("rds", REGION)
    kept = Driver(spec_of("auth", deletionPolicy="Snapshot"), name="kept", given=network(moto, seed, "kept"))
    gone = Driver(spec_of("auth"), name="gone", given=network(moto, seed, "gone"))
    for driver in (kept, gone):
        assert driver.until_settled(steps(services)).state is State.READY
    rds.modify_db_cluster(DBClusterIdentifier=gone.cluster, DeletionProtection=True, ApplyImmediately=True)
    for driver in (kept, gone):
        assert driver.finalize(steps(services)).state is State.DELETED
    clusters = [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]]
    assert kept.cluster not in clusters
    assert gone.cluster not in clusters
    snapshots = rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    assert [(s["DBClusterSnapshotIdentifier"], s["DBClusterIdentifier"]) for s in snapshots] == [
        (f"{kept.cluster}-final-{UID[:8]}", kept.cluster)
    ]


def test_foreign_cluster_is_refused_and_publishes_nothing(moto: MotoServer, seed: Seed, services: Services) -> None:
    given = network(moto, seed)
    moto.client("rds", REGION).create_db_cluster(
        DBClusterIdentifier="upskill-team-db",
        Engine="aurora-postgresql",
        MasterUsername="them",
        ManageMasterUserPassword=True,
        DBSubnetGroupName="upskill-team-db",
        Tags=[{"Key": "upskill.io/owner", "Value": "other/db"}],
    )
    driver = Driver(spec_of("auth"), given=given)
    outcome = driver.run(steps(services))
    assert (outcome.state, outcome.reason, outcome.writes) == (State.TERMINAL, "ForeignOwner", 0)
    assert "masterUserSecretArn" not in outcome.outputs
    assert driver.finalize(steps(services)).state is State.DELETED
    assert len(moto.client("rds", REGION).describe_db_clusters()["DBClusters"]) == 1
