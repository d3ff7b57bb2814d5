"""The proxy role, proxy, proxy target and proxy endpoint adapters against the moto server (+ RDS extension)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from upskill_operator.adapters.database.proxy import ProxyAdapter
from upskill_operator.adapters.database.proxy_endpoint import ProxyEndpointAdapter
from upskill_operator.adapters.database.proxy_role import POLICY_NAME, ProxyRoleAdapter
from upskill_operator.adapters.database.proxy_target import ProxyTargetAdapter
from upskill_operator.reconcile.outcome import State
from upskill_operator.reconcile.protocol import Adapter
from upskill_sandbox.aws import MotoServer, Seed

from integration.conftest import REGION
from integration.db_driver import PREFIX, Driver, Services, clients, spec_of


@pytest.fixture
def services(moto: MotoServer) -> Services:
    return Services.of(clients(moto))


def upstream(moto: MotoServer, seed: Seed) -> dict[str, Any]:
    """What the network and cluster steps publish, made with plain boto3."""
    rds, ec2 = moto.client("rds", REGION), moto.client("ec2", REGION)
    rds.create_db_subnet_group(DBSubnetGroupName="g", DBSubnetGroupDescription="d", SubnetIds=list(seed.subnet_ids))
    cluster = rds.create_db_cluster(
        DBClusterIdentifier="upskill-team-db",
        Engine="aurora-postgresql",
        MasterUsername="upskill_admin",
        ManageMasterUserPassword=True,
        DBSubnetGroupName="g",
    )["DBCluster"]
    sg = ec2.create_security_group(GroupName="db", Description="d", VpcId=seed.vpc_id)["GroupId"]
    return {
        "masterUserSecretArn": cluster["MasterUserSecret"]["SecretArn"],
        "securityGroupIds": [sg],
        "subnetIds": list(seed.subnet_ids),
        "vpcId": seed.vpc_id,
    }


def steps(services: Services) -> list[Adapter]:
    return [
        ProxyRoleAdapter(services.iam, services.kms, PREFIX),
        ProxyAdapter(services.proxies, PREFIX),
        ProxyTargetAdapter(services.proxies, PREFIX),
        ProxyEndpointAdapter(services.proxies, PREFIX),
    ]


def test_role_is_least_privilege_and_repaired(moto: MotoServer, seed: Seed, services: Services) -> None:
    given = upstream(moto, seed)
    driver = Driver(spec_of("course"), given=given)
    role_step = [ProxyRoleAdapter(services.iam, services.kms, PREFIX)]
    assert driver.run(role_step).state is State.READY
    iam = moto.client("iam", REGION)
    role = iam.get_role(RoleName="upskill-team-db-proxy")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    key = moto.client("kms", REGION).describe_key(KeyId="alias/upskill")["KeyMetadata"]["Arn"]
    policy = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=POLICY_NAME)["PolicyDocument"]
    assert [(s["Action"], s["Resource"]) for s in policy["Statement"]] == [
        ("secretsmanager:GetSecretValue", given["masterUserSecretArn"]),
        ("kms:Decrypt", key),
    ]
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName=POLICY_NAME, PolicyDocument=json.dumps(wide))
    assert driver.run(role_step).writes == 1
    repaired = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=POLICY_NAME)["PolicyDocument"]
    assert repaired["Statement"][0]["Resource"] == given["masterUserSecretArn"]

    driver.spec["proxy"]["roleArn"] = "arn:aws:iam::123456789012:role/theirs"
    outcome = driver.run(role_step)
    assert (outcome.state, outcome.outputs["roleArn"]) == (State.READY, "arn:aws:iam::123456789012:role/theirs")
    assert [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("upskill-")] == []


def test_proxy_target_and_read_only_endpoint(moto: MotoServer, seed: Seed, services: Services) -> None:
    moto.rds.pending_describes = 1
    try:
        driver = Driver(spec_of("course"), given=upstream(moto, seed))
        messages = [driver.run(steps(services)).message for _ in range(4)]
        outcome = driver.until_settled(steps(services))
    finally:
        moto.rds.pending_describes = 0
    assert messages[:3] == [
        "proxy: proxy is creating",
        "proxy target: cluster upskill-team-db is registering with the proxy",
        "proxy endpoint: proxy endpoint is creating",
    ]
    assert outcome.state is State.READY
    rds = moto.client("rds", REGION)
    proxy = rds.describe_db_proxies(DBProxyName="upskill-team-db")["DBProxies"][0]
    assert (proxy["EngineFamily"], proxy["RequireTLS"], proxy["Auth"][0]["IAMAuth"]) == ("POSTGRESQL", True, "REQUIRED")
    pool = rds.describe_db_proxy_target_groups(DBProxyName="upskill-team-db")["TargetGroups"][0]["ConnectionPoolConfig"]
    assert (pool["ConnectionBorrowTimeout"], pool["MaxConnectionsPercent"], pool["MaxIdleConnectionsPercent"]) == (
        5,
        90,
        50,
    )
    (endpoint,) = [
        e
        for e in rds.describe_db_proxy_endpoints(DBProxyName="upskill-team-db")["DBProxyEndpoints"]
        if not e["IsDefault"]
    ]
    assert (endpoint["DBProxyEndpointName"], endpoint["TargetRole"]) == ("upskill-team-db-ro", "READ_ONLY")
    assert outcome.outputs["endpoints"] == {"proxy": proxy["Endpoint"], "proxyReadOnly": endpoint["Endpoint"]}

    driver.spec["proxy"].update(
        requireTLS=False, idleClientTimeoutSeconds=600, iamAuth="Disabled", readOnlyEndpoint=False
    )
    driver.spec["proxy"]["borrowTimeoutSeconds"] = 60
    outcome = driver.until_settled(steps(services))
    assert outcome.state is State.READY
    proxy = rds.describe_db_proxies(DBProxyName="upskill-team-db")["DBProxies"][0]
    assert (proxy["RequireTLS"], proxy["IdleClientTimeout"], proxy["Auth"][0]["IAMAuth"]) == (False, 600, "DISABLED")
    pool = rds.describe_db_proxy_target_groups(DBProxyName="upskill-team-db")["TargetGroups"][0]["ConnectionPoolConfig"]
    assert pool["ConnectionBorrowTimeout"] == 60
    assert [
        e["IsDefault"] for e in rds.describe_db_proxy_endpoints(DBProxyName="upskill-team-db")["DBProxyEndpoints"]
    ] == [True]
    assert outcome.outputs["endpoints"]["proxyReadOnly"] is None


def test_disabling_the_proxy_removes_it_and_its_role(moto: MotoServer, seed: Seed, services: Services) -> None:
    driver = Driver(spec_of("auth"), given=upstream(moto, seed))
    assert driver.until_settled(steps(services)).state is State.READY
    driver.spec["proxy"] = {"enabled": False}
    outcome = driver.until_settled(steps(services))
    assert outcome.state is State.READY
    assert moto.client("rds", REGION).describe_db_proxies()["DBProxies"] == []
    assert [r for r in moto.client("iam", REGION).list_roles()["Roles"] if r["RoleName"].startswith("upskill-")] == []
    assert outcome.outputs["endpoints"] == {"proxy": None, "proxyReadOnly": None}
    assert driver.run(steps(services)).writes == 0


def test_proxy_teardown(moto: MotoServer, seed: Seed, services: Services) -> None:
    driver = Driver(spec_of("course"), given=upstream(moto, seed))
    assert driver.until_settled(steps(services)).state is State.READY
    outcome = driver.finalize(steps(services))
    assert outcome.state is State.DELETED
    rds = moto.client("rds", REGION)
    assert rds.describe_db_proxies()["DBProxies"] == []
    assert [r for r in moto.client("iam", REGION).list_roles()["Roles"] if r["RoleName"].startswith("upskill-")] == []
