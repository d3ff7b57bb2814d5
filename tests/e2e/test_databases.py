"""UpskillDatabase end to end: Kubernetes emulator -> kopf -> our engine -> moto server (+ RDS extension).

Both shipped examples are applied and every AWS field is checked; then each in-place change,
the refused ones, and out-of-band drift. The RDS extension holds resources in their transitional
states for a few describes, so every wait and requeue path runs through HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import NAMESPACE, Bed, condition, wait_for
from e2e.db_support import Aws, cluster_id, database_operator, db_doc, db_writes, get, ready, tags, terminal, unique

pytestmark = pytest.mark.e2e


@pytest.fixture
def operator(bed: Bed) -> Iterator[OperatorThread]:
    with database_operator(bed) as running:
        yield running


def _check_network(aws: Aws, bed: Bed, name: str, obj: dict[str, Any]) -> str:
    seeded = bed.boto("ec2").describe_subnets(Filters=[{"Name": "tag:tier", "Values": ["private"]}])["Subnets"]
    (group,) = aws.subnet_groups(name)
    assert sorted(s["SubnetIdentifier"] for s in group["Subnets"]) == sorted(s["SubnetId"] for s in seeded)
    assert tags(aws.rds.list_tags_for_resource(ResourceName=group["DBSubnetGroupArn"])["TagList"])[
        "upskill.io/owner"
    ] == (f"{NAMESPACE}/{name}")
    (sg,) = aws.security_groups(name)
    assert sg["VpcId"] == group["VpcId"] == obj["status"]["vpcId"]
    (rule,) = sg["IpPermissions"]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 5432, 5432)
    assert [r["CidrIp"] for r in rule["IpRanges"]] == ["10.0.0.0/8"]
    assert [p["GroupId"] for p in rule["UserIdGroupPairs"]] == [sg["GroupId"]]  # the proxy reaches the cluster
    assert tags(sg["Tags"])["upskill.io/uid"] == obj["metadata"]["uid"]
    return str(sg["GroupId"])


def _check_proxy(aws: Aws, name: str, cluster: dict[str, Any], sg_id: str, kms_key: str | None) -> dict[str, Any]:
    proxy = aws.proxy(name)
    secret = cluster["MasterUserSecret"]["SecretArn"]
    assert proxy["EngineFamily"] == "POSTGRESQL"
    assert [(a["AuthScheme"], a["SecretArn"], a["IAMAuth"]) for a in proxy["Auth"]] == [("SECRETS", secret, "REQUIRED")]
    assert proxy["RequireTLS"] is True
    assert proxy["IdleClientTimeout"] == 1800
    assert proxy["VpcSecurityGroupIds"] == [sg_id]
    assert sorted(proxy["VpcSubnetIds"]) == sorted(s["SubnetIdentifier"] for s in aws.subnet_groups(name)[0]["Subnets"])
    role = aws.iam.get_role(RoleName=proxy["RoleArn"].split("/")[-1])["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "rds.amazonaws.com"}
    policy = aws.iam.get_role_policy(RoleName=role["RoleName"], PolicyName="upskill-proxy-master-secret")
    statements = policy["PolicyDocument"]["Statement"]
    assert statements[0]["Action"] == "secretsmanager:GetSecretValue"
    assert statements[0]["Resource"] == secret  # that secret only
    assert [(s["Action"], s["Resource"]) for s in statements[1:]] == ([("kms:Decrypt", kms_key)] if kms_key else [])
    (target,) = aws.targets(name)
    assert (target["Type"], target["RdsResourceId"], target["TargetHealth"]["State"]) == (
        "TRACKED_CLUSTER",
        cluster_id(name),
        "AVAILABLE",
    )
    return proxy


@pytest.mark.parametrize("which", ["auth", "course"])
def test_example_reaches_ready_with_every_aws_field(bed: Bed, operator: OperatorThread, which: str) -> None:
    name = unique(which)
    bed.apply(db_doc(which, name))
    obj = ready(bed, name)
    aws, status = Aws(bed), obj["status"]
    sg_id = _check_network(aws, bed, name, obj)

    cluster = aws.cluster(name)
    assert (cluster["Engine"], cluster["EngineVersion"], cluster["Port"]) == ("aurora-postgresql", "16.4", 5432)
    assert (cluster["DatabaseName"], cluster["MasterUsername"]) == (which, "upskill_admin")
    assert cluster["DBSubnetGroup"] == cluster_id(name)
    assert [g["VpcSecurityGroupId"] for g in cluster["VpcSecurityGroups"]] == [sg_id]
    assert cluster["IAMDatabaseAuthenticationEnabled"] is True
    assert cluster["StorageEncrypted"] is True
    assert (cluster["BackupRetentionPeriod"], cluster["PreferredBackupWindow"]) == (7, "03:00-04:00")
    assert cluster["CopyTagsToSnapshot"] is True
    assert cluster["DeletionProtection"] is False
    assert tags(cluster["TagList"])["app"] == "upskill"
    assert cluster["MasterUserSecret"]["SecretArn"] == status["masterUserSecretArn"]
    instances = aws.instances(name)
    if which == "auth":
        assert cluster["ServerlessV2ScalingConfiguration"] == {
            "MinCapacity": 0,
            "MaxCapacity": 4,
            "SecondsUntilAutoPause": 300,
        }
        assert [i["DBInstanceClass"] for i in instances] == ["db.serverless"]
        assert status["capacity"] == {"minACU": 0, "maxACU": 4, "autoPauseSeconds": 300, "readReplicas": 0}
    else:
        assert "ServerlessV2ScalingConfiguration" not in cluster
        kms_arn = bed.boto("kms").describe_key(KeyId="alias/upskill")["KeyMetadata"]["Arn"]
        assert cluster["KmsKeyId"] == kms_arn
        assert [i["DBInstanceClass"] for i in instances] == ["db.t4g.medium", "db.t4g.medium"]
        assert status["capacity"] == {"instanceClass": "db.t4g.medium", "readReplicas": 1}
    members = {m["DBInstanceIdentifier"]: m["IsClusterWriter"] for m in cluster["DBClusterMembers"]}
    assert [(i["identifier"], i["role"]) for i in status["instances"]] == [
        (i, "writer" if w else "reader") for i, w in sorted(members.items())
    ]
    assert all(tags(i["TagList"])["upskill.io/owner"] == f"{NAMESPACE}/{name}" for i in instances)

    proxy = _check_proxy(aws, name, cluster, sg_id, cluster["KmsKeyId"] if which == "course" else None)
    pool = aws.pool(name)
    assert (pool["ConnectionBorrowTimeout"], pool["MaxConnectionsPercent"]) == (5, 90)
    assert pool["MaxIdleConnectionsPercent"] == 45 if which == "auth" else 50
    endpoints = aws.endpoints(name)
    assert [(e["DBProxyEndpointName"], e["TargetRole"]) for e in endpoints] == (
        [(f"{cluster_id(name)}-ro", "READ_ONLY")] if which == "course" else []
    )
    assert status["endpoints"] == {
        "writer": cluster["Endpoint"],
        "reader": cluster["ReaderEndpoint"],
        "proxy": proxy["Endpoint"],
        **({"proxyReadOnly": endpoints[0]["Endpoint"]} if endpoints else {}),
    }
    assert (status["clusterArn"], status["proxyArn"], status["port"]) == (
        cluster["DBClusterArn"],
        proxy["DBProxyArn"],
        5432,
    )
    assert status["roleArn"] == proxy["RoleArn"]
    assert status["phase"] == "Ready"
    secret_value = bed.boto("secretsmanager").get_secret_value(SecretId=status["masterUserSecretArn"])["SecretString"]
    assert json.loads(secret_value)["username"] == "upskill_admin"
    assert json.loads(secret_value)["password"] not in json.dumps(obj)  # never in status


def test_status_names_the_step_that_waits(bed: Bed, operator: OperatorThread) -> None:
    name = unique("steps")
    bed.apply(db_doc("course", name))
    seen: set[str] = set()

    def progress() -> bool:
        obj = get(bed, name) or {}
        seen.add(str((obj.get("status") or {}).get("message")))
        return condition(obj, "Ready").get("status") == "True"

    wait_for(progress, 60, "Ready")
    assert "cluster: cluster is creating" in seen
    assert any(m.startswith("instances: instance ") and m.endswith(" is creating") for m in seen)
    assert "proxy: proxy is creating" in seen


def test_refused_changes_touch_nothing(bed: Bed, operator: OperatorThread) -> None:
    name = unique("refuse")
    bed.apply(db_doc("auth", name))
    ready(bed, name)
    with pytest.raises(Exception, match=r"spec\.databaseName: immutable after creation"):
        bed.apply(db_doc("auth", name, databaseName="other"))
    with pytest.raises(Exception, match=r"spec\.storageEncrypted: immutable after creation"):
        bed.apply(db_doc("auth", name, storageEncrypted=False))
    bed.calls.clear()
    bed.apply(db_doc("auth", name, engineVersion="17.4"))  # admission (webhook-only rule) lets it through here
    obj = terminal(bed, name)
    assert condition(obj, "Terminal")["reason"] == "ImmutableField"
    assert (
        "spec.engineVersion: a major upgrade (16 to 17) needs allowMajorVersionUpgrade: true"
        in obj["status"]["message"]
    )
    bed.apply(db_doc("auth", name, engineVersion="15.7"))
    obj = wait_for(lambda: "cannot downgrade" in ((get(bed, name) or {}).get("status") or {}).get("message", ""), 20)
    assert db_writes(bed) == []
    assert Aws(bed).cluster(name)["EngineVersion"] == "16.4"


def test_in_place_changes_auth(bed: Bed, operator: OperatorThread) -> None:
    name = unique("auth")
    bed.apply(db_doc("auth", name))
    ready(bed, name)
    aws = Aws(bed)
    bed.apply(
        db_doc(
            "auth",
            name,
            capacity={"serverless": {"minACU": 0, "maxACU": 8, "autoPauseSeconds": 600, "readReplicas": 1}},
        )
    )
    obj = ready(bed, name)
    assert aws.cluster(name)["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 0,
        "MaxCapacity": 8,
        "SecondsUntilAutoPause": 600,
    }
    assert [i["DBInstanceClass"] for i in aws.instances(name)] == ["db.serverless", "db.serverless"]
    assert obj["status"]["capacity"]["readReplicas"] == 1
    # apply merge-patches: null removes autoPauseSeconds and readReplicas
    bed.apply(
        db_doc(
            "auth",
            name,
            capacity={"serverless": {"minACU": 1, "maxACU": 8, "autoPauseSeconds": None, "readReplicas": None}},
        )
    )
    obj = ready(bed, name)
    assert aws.cluster(name)["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 1, "MaxCapacity": 8}
    assert len(aws.instances(name)) == 1
    assert obj["status"]["capacity"] == {"minACU": 1, "maxACU": 8, "readReplicas": 0}


def test_in_place_changes_course(bed: Bed, operator: OperatorThread) -> None:
    name = unique("course")
    bed.apply(db_doc("course", name))
    ready(bed, name)
    aws = Aws(bed)
    changed = db_doc(
        "course",
        name,
        capacity={"provisioned": {"instanceClass": "db.r6g.large", "readReplicas": 2}},
        backup={"retentionDays": 14, "preferredWindow": "05:00-06:00"},
        deletionProtection=True,
        proxy={
            "requireTLS": False,
            "iamAuth": "Disabled",
            "borrowTimeoutSeconds": 30,
            "maxConnectionsPercent": 80,
            "maxIdleConnectionsPercent": 20,
            "idleClientTimeoutSeconds": 900,
            "readOnlyEndpoint": True,
        },
    )
    bed.apply(changed)
    obj = ready(bed, name)
    assert [i["DBInstanceClass"] for i in aws.instances(name)] == ["db.r6g.large"] * 3
    cluster = aws.cluster(name)
    assert (cluster["BackupRetentionPeriod"], cluster["PreferredBackupWindow"]) == (14, "05:00-06:00")
    assert cluster["DeletionProtection"] is True
    proxy = aws.proxy(name)
    assert (proxy["RequireTLS"], proxy["IdleClientTimeout"], proxy["Auth"][0]["IAMAuth"]) == (False, 900, "DISABLED")
    assert aws.pool(name) == {
        "MaxConnectionsPercent": 80,
        "MaxIdleConnectionsPercent": 20,
        "ConnectionBorrowTimeout": 30,
        "SessionPinningFilters": [],
    }
    assert obj["status"]["capacity"] == {"instanceClass": "db.r6g.large", "readReplicas": 2}

    changed["spec"]["capacity"] = {"provisioned": {"instanceClass": "db.r6g.large", "readReplicas": 0}}
    changed["spec"]["proxy"]["readOnlyEndpoint"] = False
    changed["spec"]["deletionProtection"] = False
    bed.apply(changed)
    obj = ready(bed, name)
    assert len(aws.instances(name)) == 1
    assert aws.endpoints(name) == []
    assert "proxyReadOnly" not in obj["status"]["endpoints"]
    assert aws.cluster(name)["DeletionProtection"] is False


def test_drift_is_repaired_and_steady_state_writes_nothing(bed: Bed, operator: OperatorThread) -> None:
    name = unique("drift")
    bed.apply(db_doc("course", name, tags={"team": "learning"}))
    ready(bed, name)
    aws = Aws(bed)
    bed.calls.clear()
    wait_for(lambda: bed.calls.calls.count(("rds", "DescribeDBClusters")) >= 2, 20, "two resyncs")
    assert db_writes(bed) == []

    cluster = aws.cluster(name)
    ident = cluster_id(name)
    aws.rds.modify_db_cluster(
        DBClusterIdentifier=ident, BackupRetentionPeriod=1, DeletionProtection=True, ApplyImmediately=True
    )
    aws.rds.remove_tags_from_resource(ResourceName=cluster["DBClusterArn"], TagKeys=["team"])
    reader = next(i for i in aws.instances(name) if not i["DBInstanceIdentifier"].endswith("-0"))
    aws.rds.delete_db_instance(DBInstanceIdentifier=reader["DBInstanceIdentifier"])
    aws.rds.modify_db_proxy_target_group(
        DBProxyName=ident, TargetGroupName="default", ConnectionPoolConfig={"ConnectionBorrowTimeout": 120}
    )
    aws.rds.delete_db_proxy_endpoint(DBProxyEndpointName=f"{ident}-ro")
    sg = aws.security_groups(name)[0]
    aws.ec2.authorize_security_group_ingress(
        GroupId=sg["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )

    def repaired() -> bool:
        c = aws.cluster(name)
        rules = aws.security_groups(name)[0]["IpPermissions"]
        return (
            (c["BackupRetentionPeriod"], c["DeletionProtection"]) == (7, False)
            and tags(c["TagList"]).get("team") == "learning"
            and len(aws.instances(name)) == 2
            and aws.pool(name)["ConnectionBorrowTimeout"] == 5
            and len(aws.endpoints(name)) == 1
            and [r["FromPort"] for r in rules] == [5432]
        )

    wait_for(repaired, 60, "drift repaired by resyncs")
    ready(bed, name)
