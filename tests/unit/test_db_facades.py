"""The RDS, EC2 and IAM façades on botocore Stubber: request shapes, per-service error classes, idempotence."""

from __future__ import annotations

import pytest

from upskill_operator.aws.ec2 import Ec2
from upskill_operator.aws.errors import AwsNotFoundError, AwsRecoverableError, AwsTerminalError
from upskill_operator.aws.iam import Iam
from upskill_operator.aws.rds import Rds
from upskill_operator.aws.rds_proxy import RdsProxy

from unit.stubbed_aws import stubbed


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("InvalidDBClusterStateFault", 400, AwsRecoverableError),
        ("InvalidDBSubnetGroupStateFault", 400, AwsRecoverableError),  # in use while its cluster is deleted
        ("DBClusterAlreadyExistsFault", 400, AwsRecoverableError),  # a lost race: observe again
        ("InvalidParameterCombination", 400, AwsTerminalError),
        ("InvalidParameterValue", 500, AwsTerminalError),  # terminal even when answered with a 5xx
        ("DBSubnetGroupDoesNotCoverEnoughAZs", 400, AwsTerminalError),
        ("DBClusterNotFoundFault", 404, AwsNotFoundError),
        ("Throttling", 400, AwsRecoverableError),
    ],
)
def test_rds_error_classes(code: str, status: int, error: type[Exception]) -> None:
    rds, stubber = stubbed(Rds)
    stubber.add_client_error("modify_db_cluster", code, "no", status)
    with pytest.raises(error) as caught:
        rds.modify_cluster("c", {"DeletionProtection": False})
    assert getattr(caught.value, "reason", None) == code


def test_cluster_writes_apply_immediately_and_delete_honours_the_snapshot() -> None:
    rds, stubber = stubbed(Rds)
    stubber.add_response(
        "modify_db_cluster", {}, {"DBClusterIdentifier": "c", "ApplyImmediately": True, "BackupRetentionPeriod": 9}
    )
    stubber.add_response(
        "delete_db_cluster",
        {},
        {"DBClusterIdentifier": "c", "SkipFinalSnapshot": False, "FinalDBSnapshotIdentifier": "c-final-1"},
    )
    stubber.add_response("delete_db_cluster", {}, {"DBClusterIdentifier": "c", "SkipFinalSnapshot": True})
    stubber.add_response(
        "modify_db_instance",
        {},
        {"DBInstanceIdentifier": "c-1", "DBInstanceClass": "db.r6g.large", "ApplyImmediately": True},
    )
    rds.modify_cluster("c", {"BackupRetentionPeriod": 9})
    rds.delete_cluster("c", final_snapshot="c-final-1")
    rds.delete_cluster("c", final_snapshot=None)
    rds.modify_instance("c-1", instance_class="db.r6g.large")
    stubber.assert_no_pending_responses()
    with pytest.raises(ValueError, match="nothing to change"):
        rds.modify_cluster("c", {})


def test_instances_follow_markers() -> None:
    rds, stubber = stubbed(Rds)
    filters = [{"Name": "db-cluster-id", "Values": ["c"]}]
    stubber.add_response(
        "describe_db_instances", {"DBInstances": [{"DBInstanceIdentifier": "c-0"}], "Marker": "m"}, {"Filters": filters}
    )
    stubber.add_response(
        "describe_db_instances", {"DBInstances": [{"DBInstanceIdentifier": "c-1"}]}, {"Filters": filters, "Marker": "m"}
    )
    assert [i["DBInstanceIdentifier"] for i in rds.list_instances("c")] == ["c-0", "c-1"]


def test_proxy_targets_are_idempotent() -> None:
    proxies, stubber = stubbed(RdsProxy)
    stubber.add_client_error("register_db_proxy_targets", "DBProxyTargetAlreadyRegisteredFault", "dup", 400)
    stubber.add_client_error("deregister_db_proxy_targets", "DBProxyTargetNotFoundFault", "gone", 404)
    stubber.add_client_error("register_db_proxy_targets", "DBClusterNotFoundFault", "no cluster", 404)
    proxies.register_cluster("p", "c")
    proxies.deregister_cluster("p", "c")
    with pytest.raises(AwsNotFoundError):
        proxies.register_cluster("p", "c")


def test_ec2_ingress_is_idempotent() -> None:
    ec2, stubber = stubbed(Ec2)
    perm = [{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]
    stubber.add_client_error("authorize_security_group_ingress", "InvalidPermission.Duplicate", "dup", 400)
    stubber.add_client_error("revoke_security_group_ingress", "InvalidPermission.NotFound", "gone", 400)
    stubber.add_client_error("create_security_group", "InvalidGroup.Duplicate", "race", 400)
    ec2.authorize_ingress("sg-1", perm)
    ec2.revoke_ingress("sg-1", perm)
    with pytest.raises(AwsRecoverableError):
        ec2.create_security_group("g", description="d", vpc_id="vpc-1", tags={})


def test_iam_policy_documents() -> None:
    iam, stubber = stubbed(Iam)
    stubber.add_client_error("get_role_policy", "NoSuchEntity", "none", 404)
    stubber.add_response(
        "put_role_policy",
        {},
        {"RoleName": "r", "PolicyName": "p", "PolicyDocument": '{"Statement":[],"Version":"2012-10-17"}'},
    )
    stubber.add_client_error("delete_role", "DeleteConflict", "policies attached", 409)
    assert iam.get_inline_policy("r", "p") is None
    iam.put_inline_policy("r", "p", {"Version": "2012-10-17", "Statement": []})
    with pytest.raises(AwsRecoverableError):
        iam.delete_role("r")


def test_roles_are_created_under_the_permissions_boundary_when_one_is_set() -> None:
    iam, stubber = stubbed(Iam)
    boundary = "arn:aws:iam::111122223333:policy/upskill-proxy-role-boundary"
    common = {
        "RoleName": "r",
        "AssumeRolePolicyDocument": "{}",
        "Description": "d",
        "Tags": [{"Key": "k", "Value": "v"}],
    }
    arn = "arn:aws:iam::111122223333:role/r"
    role = {
        "Role": {
            "RoleName": "r",
            "Path": "/",
            "RoleId": "AROAEXAMPLE0000000001",
            "Arn": arn,
            "CreateDate": "2026-01-01",
        }
    }
    stubber.add_response("create_role", role, {**common, "PermissionsBoundary": boundary})
    stubber.add_response("create_role", role, common)
    assert iam.create_role("r", trust_policy={}, description="d", tags={"k": "v"}, permissions_boundary=boundary)
    assert iam.create_role("r", trust_policy={}, description="d", tags={"k": "v"})
    stubber.assert_no_pending_responses()


def test_operations_list_what_is_called() -> None:
    rds, _ = stubbed(Rds)
    with pytest.raises(AssertionError, match="does not list CreateDBProxy"):
        rds.call("CreateDBProxy")
    assert {"CreateDBProxyEndpoint", "ModifyDBProxy", "RegisterDBProxyTargets"} <= RdsProxy.operations
    assert Rds.service == RdsProxy.service == "rds"


def test_cluster_snapshots_of_a_cluster_follow_the_marker() -> None:
    rds, stubber = stubbed(Rds)
    first = {"DBClusterSnapshotIdentifier": "c-1", "DBClusterIdentifier": "c"}
    second = {"DBClusterSnapshotIdentifier": "c-final-1234abcd", "DBClusterIdentifier": "c"}
    stubber.add_response(
        "describe_db_cluster_snapshots", {"DBClusterSnapshots": [first], "Marker": "m1"}, {"DBClusterIdentifier": "c"}
    )
    stubber.add_response(
        "describe_db_cluster_snapshots", {"DBClusterSnapshots": [second]}, {"DBClusterIdentifier": "c", "Marker": "m1"}
    )
    assert rds.list_cluster_snapshots("c") == [first, second]
    stubber.assert_no_pending_responses()
