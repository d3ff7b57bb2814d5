"""The RDS extension of the moto server, through boto3 over HTTP: each emulated behaviour, as AWS has it."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from upskill_sandbox.aws import MotoServer, Seed

REGION = "us-east-1"


@pytest.fixture
def seed(server: MotoServer) -> Seed:
    server.reset()
    server.rds.pending_describes = 2
    return server.seed(REGION)


@pytest.fixture
def rds(server: MotoServer) -> Any:
    return boto3.client(
        "rds", endpoint_url=server.url, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def cluster(rds: Any, seed: Seed, name: str = "c1", **extra: Any) -> dict[str, Any]:
    groups = rds.describe_db_subnet_groups()["DBSubnetGroups"]
    if not any(g["DBSubnetGroupName"] == "sg1" for g in groups):
        rds.create_db_subnet_group(
            DBSubnetGroupName="sg1", DBSubnetGroupDescription="d", SubnetIds=list(seed.subnet_ids)
        )
    found: dict[str, Any] = rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        DatabaseName="app",
        MasterUsername="app_admin",
        ManageMasterUserPassword=True,
        DBSubnetGroupName="sg1",
        **extra,
    )["DBCluster"]
    return found


def statuses(rds: Any, name: str, times: int) -> list[str]:
    return [rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["Status"] for _ in range(times)]


def test_duplicates_are_refused_not_overwritten(rds: Any, seed: Seed) -> None:
    created = cluster(rds, seed)
    with pytest.raises(ClientError) as dup:
        cluster(rds, seed)
    assert code(dup) == "DBClusterAlreadyExistsFault"
    with pytest.raises(ClientError) as dup_group:
        rds.create_db_subnet_group(
            DBSubnetGroupName="sg1", DBSubnetGroupDescription="d", SubnetIds=list(seed.subnet_ids)
        )
    assert code(dup_group) == "DBSubnetGroupAlreadyExists"
    with pytest.raises(ClientError) as one_zone:
        rds.create_db_subnet_group(
            DBSubnetGroupName="sg2", DBSubnetGroupDescription="d", SubnetIds=[seed.subnet_ids[0]]
        )
    assert code(one_zone) == "DBSubnetGroupDoesNotCoverEnoughAZs"
    assert (
        rds.describe_db_clusters(DBClusterIdentifier="c1")["DBClusters"][0]["ClusterCreateTime"]
        == created["ClusterCreateTime"]
    )


def test_master_secret_holds_the_master_user(server: MotoServer, rds: Any, seed: Seed) -> None:
    arn = cluster(rds, seed)["MasterUserSecret"]["SecretArn"]
    value = json.loads(server.client("secretsmanager", REGION).get_secret_value(SecretId=arn)["SecretString"])
    assert value["username"] == "app_admin"
    assert len(value["password"]) == 32
    assert value["password"] != "P@55w0rd!"
    other = cluster(rds, seed, "c2")["MasterUserSecret"]["SecretArn"]
    second = json.loads(server.client("secretsmanager", REGION).get_secret_value(SecretId=other)["SecretString"])
    assert second["password"] != value["password"]


def test_transitional_states_last_a_few_describes_and_block_writes(rds: Any, seed: Seed) -> None:
    assert cluster(rds, seed)["Status"] == "creating"
    with pytest.raises(ClientError) as busy:
        rds.modify_db_cluster(DBClusterIdentifier="c1", DeletionProtection=True)
    assert code(busy) == "InvalidDBClusterStateFault"
    assert statuses(rds, "c1", 3) == ["creating", "creating", "available"]
    rds.modify_db_cluster(DBClusterIdentifier="c1", EnableIAMDatabaseAuthentication=True, ApplyImmediately=True)
    assert statuses(rds, "c1", 3) == ["modifying", "modifying", "available"]
    assert rds.describe_db_clusters(DBClusterIdentifier="c1")["DBClusters"][0]["IAMDatabaseAuthenticationEnabled"]
    rds.create_db_instance(
        DBInstanceIdentifier="c1-0",
        DBClusterIdentifier="c1",
        Engine="aurora-postgresql",
        DBInstanceClass="db.serverless",
    )
    filters = [{"Name": "db-cluster-id", "Values": ["c1"]}]
    seen = [rds.describe_db_instances(Filters=filters)["DBInstances"][0]["DBInstanceStatus"] for _ in range(3)]
    assert seen == ["creating", "creating", "available"]


def test_cluster_errors_aws_gives(rds: Any, seed: Seed) -> None:
    for call in (
        lambda: rds.modify_db_cluster(DBClusterIdentifier="nope", DeletionProtection=True),
        lambda: rds.delete_db_cluster(DBClusterIdentifier="nope", SkipFinalSnapshot=True),
    ):
        with pytest.raises(ClientError) as missing:
            call()
        assert code(missing) == "DBClusterNotFoundFault"  # moto: an HTML 500 for modify
    cluster(rds, seed)
    statuses(rds, "c1", 3)
    with pytest.raises(ClientError) as major:
        rds.modify_db_cluster(DBClusterIdentifier="c1", EngineVersion="17.4")
    assert code(major) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as no_snapshot:
        rds.delete_db_cluster(DBClusterIdentifier="c1")
    assert code(no_snapshot) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as in_use:
        rds.delete_db_subnet_group(DBSubnetGroupName="sg1")
    assert code(in_use) == "InvalidDBSubnetGroupStateFault"
    rds.delete_db_cluster(DBClusterIdentifier="c1", FinalDBSnapshotIdentifier="c1-final")
    snapshot = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="c1-final")["DBClusterSnapshots"][0]
    assert snapshot["DBClusterIdentifier"] == "c1"
    rds.delete_db_subnet_group(DBSubnetGroupName="sg1")


def proxy(rds: Any, seed: Seed, secret: str) -> dict[str, Any]:
    found: dict[str, Any] = rds.create_db_proxy(
        DBProxyName="p1",
        EngineFamily="POSTGRESQL",
        Auth=[{"AuthScheme": "SECRETS", "SecretArn": secret, "IAMAuth": "REQUIRED"}],
        RoleArn="arn:aws:iam::123456789012:role/r",
        VpcSubnetIds=list(seed.subnet_ids),
        Tags=[{"Key": "k", "Value": "v"}],
    )["DBProxy"]
    return found


def test_proxy_modify_and_targets(rds: Any, seed: Seed) -> None:
    secret = cluster(rds, seed)["MasterUserSecret"]["SecretArn"]
    assert proxy(rds, seed, secret)["Status"] == "creating"
    with pytest.raises(ClientError) as busy:
        rds.register_db_proxy_targets(DBProxyName="p1", DBClusterIdentifiers=["c1"])
    assert code(busy) == "InvalidDBProxyStateFault"
    assert [rds.describe_db_proxies(DBProxyName="p1")["DBProxies"][0]["Status"] for _ in range(3)][-1] == "available"
    changed = rds.modify_db_proxy(
        DBProxyName="p1",
        RequireTLS=True,
        IdleClientTimeout=600,
        Auth=[{"AuthScheme": "SECRETS", "SecretArn": secret, "IAMAuth": "DISABLED"}],
    )["DBProxy"]
    assert (changed["Status"], changed["RequireTLS"], changed["IdleClientTimeout"]) == ("modifying", True, 600)
    assert changed["Auth"][0]["IAMAuth"] == "DISABLED"
    [rds.describe_db_proxies(DBProxyName="p1") for _ in range(3)]
    for missing in ("zz",):
        with pytest.raises(ClientError) as no_cluster:
            rds.register_db_proxy_targets(DBProxyName="p1", DBClusterIdentifiers=[missing])
        assert code(no_cluster) == "DBClusterNotFoundFault"
    rds.register_db_proxy_targets(DBProxyName="p1", DBClusterIdentifiers=["c1"])
    with pytest.raises(ClientError) as twice:
        rds.register_db_proxy_targets(DBProxyName="p1", DBClusterIdentifiers=["c1"])
    assert code(twice) == "DBProxyTargetAlreadyRegisteredFault"
    health = [rds.describe_db_proxy_targets(DBProxyName="p1")["Targets"][0]["TargetHealth"]["State"] for _ in range(3)]
    assert health == ["REGISTERING", "REGISTERING", "AVAILABLE"]
    rds.modify_db_proxy_target_group(
        DBProxyName="p1",
        TargetGroupName="default",
        ConnectionPoolConfig={"MaxConnectionsPercent": 80, "MaxIdleConnectionsPercent": 0},
    )
    pool = rds.describe_db_proxy_target_groups(DBProxyName="p1")["TargetGroups"][0]["ConnectionPoolConfig"]
    assert (pool["MaxConnectionsPercent"], pool["MaxIdleConnectionsPercent"]) == (80, 0)
    for call in (
        lambda: rds.describe_db_proxy_targets(DBProxyName="zz"),
        lambda: rds.describe_db_proxy_target_groups(DBProxyName="zz"),
        lambda: rds.delete_db_proxy(DBProxyName="zz"),
        lambda: rds.modify_db_proxy(DBProxyName="zz", RequireTLS=False),
    ):
        with pytest.raises(ClientError) as missing:
            call()
        assert code(missing) == "DBProxyNotFoundFault"


def test_proxy_endpoints(rds: Any, seed: Seed) -> None:
    secret = cluster(rds, seed)["MasterUserSecret"]["SecretArn"]
    proxy(rds, seed, secret)
    [rds.describe_db_proxies(DBProxyName="p1") for _ in range(3)]
    created = rds.create_db_proxy_endpoint(
        DBProxyName="p1",
        DBProxyEndpointName="p1-ro",
        VpcSubnetIds=list(seed.subnet_ids),
        TargetRole="READ_ONLY",
        Tags=[{"Key": "owner", "Value": "me"}],
    )["DBProxyEndpoint"]
    assert (created["Status"], created["TargetRole"], created["IsDefault"]) == ("creating", "READ_ONLY", False)
    assert created["Endpoint"].startswith("p1-ro.endpoint.proxy-")
    assert created["DBProxyEndpointArn"].split(":")[5] == "db-proxy-endpoint"
    with pytest.raises(ClientError) as dup:
        rds.create_db_proxy_endpoint(DBProxyName="p1", DBProxyEndpointName="p1-ro", VpcSubnetIds=list(seed.subnet_ids))
    assert code(dup) == "DBProxyEndpointAlreadyExistsFault"
    with pytest.raises(ClientError) as bad_name:
        rds.create_db_proxy_endpoint(
            DBProxyName="p1", DBProxyEndpointName="bad--name", VpcSubnetIds=list(seed.subnet_ids)
        )
    assert code(bad_name) == "InvalidParameterValue"
    listed = [
        [
            (e["DBProxyEndpointName"], e["Status"])
            for e in rds.describe_db_proxy_endpoints(DBProxyName="p1")["DBProxyEndpoints"]
        ]
        for _ in range(3)
    ]
    assert listed[0] == [("default", "available"), ("p1-ro", "creating")]
    assert listed[2] == [("default", "available"), ("p1-ro", "available")]
    arn = created["DBProxyEndpointArn"]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "extra", "Value": "1"}])
    rds.remove_tags_from_resource(ResourceName=arn, TagKeys=["owner"])
    assert rds.list_tags_for_resource(ResourceName=arn)["TagList"] == [{"Key": "extra", "Value": "1"}]
    modified = rds.modify_db_proxy_endpoint(DBProxyEndpointName="p1-ro", VpcSecurityGroupIds=["sg-12345678"])
    assert modified["DBProxyEndpoint"]["VpcSecurityGroupIds"] == ["sg-12345678"]
    [rds.describe_db_proxy_endpoints(DBProxyEndpointName="p1-ro") for _ in range(3)]
    assert rds.delete_db_proxy_endpoint(DBProxyEndpointName="p1-ro")["DBProxyEndpoint"]["Status"] == "deleting"
    gone = [len(rds.describe_db_proxy_endpoints(DBProxyName="p1")["DBProxyEndpoints"]) for _ in range(3)]
    assert gone == [2, 2, 1]
    with pytest.raises(ClientError) as missing:
        rds.describe_db_proxy_endpoints(DBProxyEndpointName="p1-ro")
    assert code(missing) == "DBProxyEndpointNotFoundFault"


def test_deleting_a_proxy_deletes_its_endpoints(server: MotoServer, rds: Any, seed: Seed) -> None:
    server.rds.pending_describes = 0
    secret = cluster(rds, seed)["MasterUserSecret"]["SecretArn"]
    proxy(rds, seed, secret)
    rds.create_db_proxy_endpoint(DBProxyName="p1", DBProxyEndpointName="p1-ro", VpcSubnetIds=list(seed.subnet_ids))
    rds.delete_db_proxy(DBProxyName="p1")
    with pytest.raises(ClientError) as missing:
        rds.describe_db_proxy_endpoints(DBProxyEndpointName="p1-ro")
    assert code(missing) == "DBProxyEndpointNotFoundFault"


def test_versions_and_classes_aurora_postgresql_does_not_offer_are_refused(rds: Any, seed: Seed) -> None:
    cluster(rds, seed)
    with pytest.raises(ClientError) as version:
        rds.create_db_cluster(
            DBClusterIdentifier="c2", Engine="aurora-postgresql", EngineVersion="16.5", DBSubnetGroupName="sg1"
        )
    assert code(version) == "InvalidParameterCombination"
    assert "Cannot find version 16.5 for aurora-postgresql" in str(version.value)
    statuses(rds, "c1", 3)
    with pytest.raises(ClientError) as modify_version:
        rds.modify_db_cluster(DBClusterIdentifier="c1", EngineVersion="16.7", ApplyImmediately=True)
    assert code(modify_version) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as small:
        rds.create_db_instance(
            DBInstanceIdentifier="c1-0",
            DBClusterIdentifier="c1",
            Engine="aurora-postgresql",
            DBInstanceClass="db.t4g.small",
        )
    assert code(small) == "InvalidParameterCombination"
    assert "DBInstanceClass=db.t4g.small, Engine=aurora-postgresql, EngineVersion=16.4" in str(small.value)
    rds.create_db_instance(
        DBInstanceIdentifier="c1-0",
        DBClusterIdentifier="c1",
        Engine="aurora-postgresql",
        DBInstanceClass="db.t4g.medium",
    )
    statuses(rds, "c1", 3)
    [rds.describe_db_instances(DBInstanceIdentifier="c1-0") for _ in range(3)]
    with pytest.raises(ClientError) as resize:
        rds.modify_db_instance(DBInstanceIdentifier="c1-0", DBInstanceClass="db.m5.large", ApplyImmediately=True)
    assert code(resize) == "InvalidParameterCombination"


def master_versions(server: MotoServer, arn: str) -> list[tuple[str, tuple[str, ...]]]:
    listed = server.client("secretsmanager", REGION).list_secret_version_ids(SecretId=arn, IncludeDeprecated=True)
    return sorted((v["VersionId"], tuple(sorted(v["VersionStages"]))) for v in listed["Versions"])


def everything(server: MotoServer, rds: Any, arn: str) -> tuple[Any, ...]:
    """What a rotation request may change: the cluster, its instances, its master secret (versions, value)."""
    clusters, instances = (
        [{k: v for k, v in found.items() if k != "LatestRestorableTime"} for found in listed]  # the time of asking
        for listed in (rds.describe_db_clusters()["DBClusters"], rds.describe_db_instances()["DBInstances"])
    )
    value = server.client("secretsmanager", REGION).get_secret_value(SecretId=arn)["SecretString"]
    return clusters, instances, master_versions(server, arn), value


def test_a_refused_rotation_changes_nothing(server: MotoServer, rds: Any, seed: Seed) -> None:
    arn = cluster(rds, seed)["MasterUserSecret"]["SecretArn"]
    rds.create_db_instance(
        DBInstanceIdentifier="c1-0",
        DBClusterIdentifier="c1",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )
    rds.create_db_cluster(
        DBClusterIdentifier="c2", Engine="aurora-postgresql", MasterUsername="u2", MasterUserPassword="not-managed-1"
    )
    statuses(rds, "c1", 3), statuses(rds, "c2", 3)
    rds.describe_db_instances(), rds.describe_db_instances(), rds.describe_db_instances()
    before = everything(server, rds, arn)
    refused = (
        {"DBClusterIdentifier": "c1", "RotateMasterUserPassword": True},  # not applied immediately
        {"DBClusterIdentifier": "c1", "RotateMasterUserPassword": True, "ApplyImmediately": False},
        {"DBClusterIdentifier": "c1", "RotateMasterUserPassword": True, "DeletionProtection": True},
        {"DBClusterIdentifier": "c2", "RotateMasterUserPassword": True, "ApplyImmediately": True},  # not managed
    )
    for request in refused:
        with pytest.raises(ClientError) as exc:
            rds.modify_db_cluster(**request)
        assert code(exc) == "InvalidParameterCombination", request
        assert everything(server, rds, arn) == before, request
    assert not rds.describe_db_clusters(DBClusterIdentifier="c1")["DBClusters"][0]["DeletionProtection"]


def test_rotation_writes_a_new_master_password_and_keeps_the_cluster(server: MotoServer, rds: Any, seed: Seed) -> None:
    arn = cluster(rds, seed)["MasterUserSecret"]["SecretArn"]
    statuses(rds, "c1", 3)
    sm = server.client("secretsmanager", REGION)
    old = json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
    [(first, _)] = master_versions(server, arn)
    rds.modify_db_cluster(DBClusterIdentifier="c1", RotateMasterUserPassword=True, ApplyImmediately=True)
    new = json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
    assert new["username"] == old["username"] == "app_admin"
    assert new["password"] != old["password"]
    assert len(new["password"]) == 32
    stages = dict(master_versions(server, arn))
    assert stages[first] == ("AWSPREVIOUS",)
    assert sorted(stages.values()) == [("AWSCURRENT",), ("AWSPREVIOUS",)]
    previous = json.loads(sm.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"])
    assert previous["password"] == old["password"]
    assert [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]] == ["c1"]
    assert rds.describe_db_clusters(DBClusterIdentifier="c1")["DBClusters"][0]["MasterUserSecret"]["SecretArn"] == arn
