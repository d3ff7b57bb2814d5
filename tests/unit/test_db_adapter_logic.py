"""The pure parts of the database adapters: names, instance plans, proxy diffs, policies, pools, rules."""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.adapters.database.common import RDS_ID, Names, names
from upskill_operator.adapters.database.instances import Member, plan_members
from upskill_operator.adapters.database.proxy import desired_auth, proxy_changes
from upskill_operator.adapters.database.proxy_role import access_policy, same_policy, trust_policy
from upskill_operator.adapters.database.proxy_target import pool_config
from upskill_operator.adapters.database.security_group import ingress_permissions, rule_atoms
from upskill_operator.models.database import DatabaseSpec, ProxySpec
from upskill_operator.models.tags import tag_changes
from upskill_operator.reconcile.protocol import Target

from unit.crd_support import example

AUTH = example("UpskillDatabase", "auth-db")["spec"]


def target(namespace: str = "upskill", name: str = "auth-db", **spec: Any) -> Target:
    return Target("UpskillDatabase", namespace, name, "0a1b2c3d-99", 1, DatabaseSpec.model_validate({**AUTH, **spec}))


def test_names_are_deterministic_valid_and_bounded() -> None:
    n = names(target(), "upskill")
    assert (n.cluster, n.subnet_group, n.proxy) == ("upskill-upskill-auth-db",) * 3
    assert (n.role, n.proxy_endpoint, n.security_group) == (
        "upskill-upskill-auth-db-proxy",
        "upskill-upskill-auth-db-ro",
        "upskill-upskill-auth-db-db",
    )
    assert n.final_snapshot("0a1b2c3d-99") == "upskill-upskill-auth-db-final-0a1b2c3d"
    long = names(target("team-" + "a" * 50, "course.db--" + "b" * 60), "upskill")
    assert len(long.cluster) <= 60
    assert RDS_ID.fullmatch(long.cluster)
    assert long.cluster == names(target("team-" + "a" * 50, "course.db--" + "b" * 60), "upskill").cluster
    assert len(long.instance(15)) <= 63
    assert RDS_ID.fullmatch(long.instance(15))
    assert len(long.role) <= 64
    assert long.instance_index(long.instance(7)) == 7
    assert long.instance_index(f"{long.cluster}-x") is None
    assert names(target("9lives", "x"), "").cluster == "db-9lives-x"
    assert names(target(clusterIdentifier="mine"), "upskill").cluster == "mine"


def member(identifier: str, writer: bool = False, cls: str = "db.t4g.medium") -> Member:
    return Member(identifier, cls, "available", writer, f"arn:{identifier}", {})


N = Names("c")


def test_instance_plans() -> None:
    assert plan_members(N, [], 2, "db.t4g.medium")[1] == ("create", "c-0")
    gap = [member("c-0", writer=True), member("c-2")]
    assert plan_members(N, gap, 3, "db.t4g.medium") == (("spec.capacity (instances: 2 of 3)",), ("create", "c-1"))
    three = [member("c-0"), member("c-1", writer=True), member("c-2")]
    assert plan_members(N, three, 2, "db.t4g.medium")[1] == ("delete", "c-2")
    writer_last = [member("c-0"), member("c-1"), member("c-2", writer=True)]
    assert plan_members(N, writer_last, 1, "db.t4g.medium")[1] == ("delete", "c-1")  # never the writer
    mixed = [member("c-0", writer=True, cls="db.t4g.medium"), member("c-1", cls="db.t4g.medium")]
    assert plan_members(N, mixed, 2, "db.r6g.large")[1] == ("modify", "c-1")  # readers first
    done = [member("c-0", writer=True, cls="db.r6g.large"), member("c-1", cls="db.r6g.large")]
    assert plan_members(N, done, 2, "db.r6g.large") == ((), None)


def test_proxy_changes() -> None:
    want = {
        "Auth": desired_auth("arn:s", "Required"),
        "RoleArn": "arn:r",
        "VpcSubnetIds": ["s-1", "s-2"],
        "SecurityGroups": ["sg-1"],
        "RequireTLS": True,
        "IdleClientTimeout": 1800,
    }
    have = {
        "EngineFamily": "POSTGRESQL",
        "Auth": [{"AuthScheme": "SECRETS", "SecretArn": "arn:s", "IAMAuth": "REQUIRED", "Description": "x"}],
        "RoleArn": "arn:r",
        "VpcSubnetIds": ["s-2", "s-1"],
        "VpcSecurityGroupIds": ["sg-1"],
        "RequireTLS": True,
        "IdleClientTimeout": 1800,
        "DebugLogging": False,
    }
    assert proxy_changes(have, want) == ((), {}, ())
    diff, changes, conflicts = proxy_changes(
        {**have, "RequireTLS": False, "Auth": [{**have["Auth"][0], "IAMAuth": "DISABLED"}], "VpcSubnetIds": ["s-9"]},
        want,
    )
    assert diff == ("proxy auth (spec.proxy.iamAuth, application users)", "spec.proxy.requireTLS")
    assert changes == {"Auth": want["Auth"], "RequireTLS": True}
    assert conflicts == ("spec.network: an RDS Proxy's subnets cannot change; the spec now selects other subnets",)
    assert proxy_changes({**have, "EngineFamily": "MYSQL"}, {})[2] == (
        "proxy: engine family MYSQL cannot change to POSTGRESQL",
    )


def test_role_policies_are_least_privilege_and_compared_as_data() -> None:
    plain = access_policy("arn:secret", None, "us-east-1")
    assert plain["Statement"] == [
        {
            "Sid": "ReadMasterSecret",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:secret",
        }
    ]
    with_key = access_policy("arn:secret", "arn:key", "eu-west-1")["Statement"][1]
    assert with_key["Action"] == "kms:Decrypt"
    assert with_key["Resource"] == "arn:key"
    assert with_key["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}
    listed = {
        "Version": "2012-10-17",
        "Statement": [{**plain["Statement"][0], "Action": ["secretsmanager:GetSecretValue"]}],
    }
    assert same_policy(plain, listed)
    assert not same_policy(plain, access_policy("arn:other", None, "us-east-1"))
    assert trust_policy()["Statement"][0]["Principal"] == {"Service": "rds.amazonaws.com"}


@pytest.mark.parametrize(
    ("proxy", "pool"),
    [
        ({}, {"MaxConnectionsPercent": 100, "MaxIdleConnectionsPercent": 50, "ConnectionBorrowTimeout": 5}),
        (
            {"maxConnectionsPercent": 90},
            {"MaxConnectionsPercent": 90, "MaxIdleConnectionsPercent": 45, "ConnectionBorrowTimeout": 5},
        ),
        (
            {"maxConnectionsPercent": 90, "maxIdleConnectionsPercent": 0, "borrowTimeoutSeconds": 30},
            {"MaxConnectionsPercent": 90, "MaxIdleConnectionsPercent": 0, "ConnectionBorrowTimeout": 30},
        ),
    ],
)
def test_pool(proxy: dict[str, Any], pool: dict[str, int]) -> None:
    assert pool_config(ProxySpec.model_validate(proxy)) == pool


def test_security_group_rules_round_trip() -> None:
    atoms = {("cidr", "10.0.0.0/8"), ("group", "sg-1"), ("cidr6", "fd00::/8")}
    (perm,) = ingress_permissions(atoms, "x")
    found, others = rule_atoms([perm, {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": []}])
    assert found == atoms
    assert [o["FromPort"] for o in others] == [22]
    assert ingress_permissions(set(), "x") == []


def test_tag_changes_never_touch_foreign_keys() -> None:
    to_set, to_remove = tag_changes({"a": "1", "b": "2"}, {"a": "0", "old": "x", "theirs": "y"}, ["old", "b"])
    assert (to_set, to_remove) == ({"a": "1", "b": "2"}, ("old",))
