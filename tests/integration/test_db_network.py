"""The DB subnet group and security group adapters against the moto server (with our RDS extension)."""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.adapters.database.security_group import SecurityGroupAdapter
from upskill_operator.adapters.database.subnet_group import SubnetGroupAdapter
from upskill_operator.reconcile.outcome import State
from upskill_sandbox.aws import MotoServer, Seed

from integration.conftest import REGION
from integration.db_driver import PREFIX, Driver, Services, clients, spec_of


@pytest.fixture
def services(moto: MotoServer) -> Services:
    return Services.of(clients(moto))


def tags(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or ()}


def test_subnet_group_from_a_tag_selector(moto: MotoServer, seed: Seed, services: Services) -> None:
    adapter = SubnetGroupAdapter(services.rds, services.ec2, PREFIX)
    driver = Driver(spec_of("auth"))
    outcome = driver.run([adapter])
    assert outcome.state is State.READY
    rds = moto.client("rds", REGION)
    group = rds.describe_db_subnet_groups(DBSubnetGroupName=driver.cluster)["DBSubnetGroups"][0]
    assert sorted(s["SubnetIdentifier"] for s in group["Subnets"]) == sorted(seed.subnet_ids)
    assert tags(rds.list_tags_for_resource(ResourceName=group["DBSubnetGroupArn"])["TagList"])["upskill.io/owner"] == (
        "team/db"
    )
    assert (outcome.outputs["vpcId"], sorted(outcome.outputs["subnetIds"])) == (seed.vpc_id, sorted(seed.subnet_ids))

    ec2 = moto.client("ec2", REGION)
    extra = ec2.create_subnet(
        VpcId=seed.vpc_id,
        CidrBlock="10.42.9.0/24",
        AvailabilityZone=f"{REGION}c",
        TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "tier", "Value": "private"}]}],
    )["Subnet"]["SubnetId"]
    assert driver.run([adapter]).writes == 1  # the newly tagged subnet joins the group
    group = rds.describe_db_subnet_groups(DBSubnetGroupName=driver.cluster)["DBSubnetGroups"][0]
    assert extra in {s["SubnetIdentifier"] for s in group["Subnets"]}
    assert driver.run([adapter]).writes == 0


def test_subnet_selector_matching_one_zone_is_terminal(moto: MotoServer, seed: Seed, services: Services) -> None:
    ec2 = moto.client("ec2", REGION)
    ec2.create_tags(Resources=[seed.subnet_ids[0]], Tags=[{"Key": "lonely", "Value": "yes"}])
    driver = Driver(spec_of("auth", network={"subnetSelector": {"tags": {"lonely": "yes"}}}))
    outcome = driver.run([SubnetGroupAdapter(services.rds, services.ec2, PREFIX)])
    assert outcome.state is State.TERMINAL
    assert "spec.network.subnetSelector: matched 1 subnet(s) in 1 availability zone(s)" in outcome.message
    assert moto.client("rds", REGION).describe_db_subnet_groups()["DBSubnetGroups"] == []


def _rules(group: dict[str, Any]) -> list[tuple[int, list[str], list[str]]]:
    return [
        (
            p["FromPort"],
            sorted(r["CidrIp"] for r in p.get("IpRanges", [])),
            sorted(g["GroupId"] for g in p.get("UserIdGroupPairs", [])),
        )
        for p in group["IpPermissions"]
    ]


def test_security_group_rules_and_drift(moto: MotoServer, seed: Seed, services: Services) -> None:
    adapter = SecurityGroupAdapter(services.ec2, PREFIX)
    driver = Driver(spec_of("course"), given={"vpcId": seed.vpc_id})
    outcome = driver.run([adapter])
    assert outcome.state is State.READY
    ec2 = moto.client("ec2", REGION)
    group = ec2.describe_security_groups(GroupIds=[outcome.outputs["securityGroupId"]])["SecurityGroups"][0]
    assert group["GroupName"] == f"{driver.cluster}-db"
    assert group["VpcId"] == seed.vpc_id
    assert _rules(group) == [(5432, ["10.0.0.0/8"], [group["GroupId"]])]
    assert tags(group["Tags"])["upskill.io/uid"] == "5eed0000-aaaa-bbbb"

    ec2.revoke_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
    )
    assert driver.run([adapter]).writes == 1  # a rule removed out of band comes back
    group = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"][0]
    assert _rules(group) == [(5432, ["10.0.0.0/8"], [group["GroupId"]])]

    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    apps = ec2.create_security_group(GroupName="apps", Description="apps", VpcId=seed.vpc_id)["GroupId"]
    driver.spec["network"]["allowFrom"] = {"cidrs": ["10.1.0.0/16"], "securityGroupIds": [apps]}
    assert driver.run([adapter]).state is State.READY
    group = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"][0]
    assert _rules(group) == [(5432, ["10.1.0.0/16"], sorted([group["GroupId"], apps]))]

    driver.spec["network"]["allowFrom"] = {"securityGroupIds": ["sg-0123456789abcdef0"]}
    outcome = driver.run([adapter])
    assert (outcome.state, outcome.reason) == (State.TERMINAL, "SecurityGroupNotFound")
    assert "spec.network.allowFrom.securityGroupIds" in outcome.message


def test_given_security_groups_create_none(moto: MotoServer, seed: Seed, services: Services) -> None:
    spec = spec_of("auth")
    spec["network"] = {"subnetSelector": {"tags": {"tier": "private"}}, "securityGroupIds": ["sg-0123456789abcdef0"]}
    driver = Driver(spec, given={"vpcId": seed.vpc_id})
    outcome = driver.run([SecurityGroupAdapter(services.ec2, PREFIX)])
    assert (outcome.state, outcome.writes) == (State.READY, 0)
    assert outcome.outputs["securityGroupIds"] == ["sg-0123456789abcdef0"]
    groups = moto.client("ec2", REGION).describe_security_groups()["SecurityGroups"]
    assert all(not g["GroupName"].startswith(driver.cluster) for g in groups)


def test_network_teardown(moto: MotoServer, seed: Seed, services: Services) -> None:
    adapters = [SubnetGroupAdapter(services.rds, services.ec2, PREFIX), SecurityGroupAdapter(services.ec2, PREFIX)]
    driver = Driver(spec_of("auth"))
    assert driver.run(adapters).state is State.READY
    assert driver.finalize(adapters).state is State.DELETED
    assert moto.client("rds", REGION).describe_db_subnet_groups()["DBSubnetGroups"] == []
    groups = moto.client("ec2", REGION).describe_security_groups()["SecurityGroups"]
    assert all(not g["GroupName"].startswith(driver.cluster) for g in groups)
