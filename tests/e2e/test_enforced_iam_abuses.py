"""The abuses of issue 14, tried with the operator's own credentials on the enforcing-IAM bed: each is denied.

These go straight to AWS, as the operator would if its code were subverted, so they show what IAM
alone stops (the operator-side checks are tested elsewhere). Conditions the bed evaluates are read
from the emulator's state: a foreign object's tags are what Secrets Manager, DynamoDB, RDS, IAM and
EC2 store for it. After every attempt the foreign objects are exactly as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from upskill_sandbox.aws import MotoServer
from upskill_sandbox.iam_enforcer import IamEnforcer
from upskill_sandbox.iam_principal import OperatorPrincipal, operator_principal

from e2e.conftest import REGION, emulators

pytestmark = pytest.mark.e2e

OWNER = [{"Key": "upskill.io/owner", "Value": "attacker/steal"}]
TRUST_ANYONE = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
)
ADMIN = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@dataclass
class Foreign:
    aws: MotoServer
    enforcer: IamEnforcer
    principal: OperatorPrincipal
    rds_secret_arn: str
    cluster_arn: str
    group_id: str

    def attacker(self, service: str) -> Any:
        session = boto3.session.Session(region_name=REGION, **self.principal.session_kwargs())
        return session.client(service, endpoint_url=self.aws.url)  # type: ignore[call-overload]

    def admin(self, service: str) -> Any:
        return self.aws.client(service, REGION)

    def state(self) -> dict[str, Any]:
        """Everything an abuse could change, read with the bed's own key."""
        sm, ddb, rds, iam, ec2 = (self.admin(s) for s in ("secretsmanager", "dynamodb", "rds", "iam", "ec2"))
        table = ddb.describe_table(TableName="team-b-orders")["Table"]
        return {
            "stripe": sm.get_secret_value(SecretId="team-b/stripe-live")["SecretString"],
            "stripe tags": sm.describe_secret(SecretId="team-b/stripe-live").get("Tags", []),
            "prefixed": sm.describe_secret(SecretId="upskill/team-b/stripe").get("Tags", []),
            "rds secret": sm.describe_secret(SecretId=self.rds_secret_arn).get("Tags", []),
            "table": (table.get("StreamSpecification"), table.get("DeletionProtectionEnabled")),
            "table tags": ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", []),
            "ttl": ddb.describe_time_to_live(TableName="team-b-orders")["TimeToLiveDescription"],
            "item": ddb.get_item(TableName="team-b-orders", Key={"pk": {"S": "order#1"}}).get("Item"),
            "cluster": rds.list_tags_for_resource(ResourceName=self.cluster_arn)["TagList"],
            "clusters": [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]],
            "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
            "legacy policies": iam.list_role_policies(RoleName="upskill-legacy")["PolicyNames"],
            "operator policies": iam.list_role_policies(RoleName="operator-upskill")["PolicyNames"],
            "group": ec2.describe_security_groups(GroupIds=[self.group_id])["SecurityGroups"][0],
            "alarms": _alarms(self.admin("cloudwatch")),
        }


@pytest.fixture(scope="module")
def foreign() -> Iterator[Foreign]:
    enforcer = IamEnforcer()
    with emulators(REGION, enforcer) as (aws, _kube):
        principal = operator_principal(aws, REGION)
        sm, ddb, rds, iam, ec2 = (aws.client(s, REGION) for s in ("secretsmanager", "dynamodb", "rds", "iam", "ec2"))
        sm.create_secret(Name="team-b/stripe-live", SecretString="sk_live_team_b")
        sm.create_secret(Name="upskill/team-b/stripe", SecretString="sk_live_prefixed")
        ddb.create_table(
            TableName="team-b-orders",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.put_item(TableName="team-b-orders", Item={"pk": {"S": "order#1"}, "total": {"N": "42"}})
        cluster = rds.create_db_cluster(
            DBClusterIdentifier="team-b-db",
            Engine="aurora-postgresql",
            MasterUsername="b",
            ManageMasterUserPassword=True,
        )["DBCluster"]
        iam.create_role(RoleName="upskill-legacy", AssumeRolePolicyDocument=TRUST_ANYONE)
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        group = ec2.create_security_group(GroupName="team-b", Description="team b", VpcId=vpc)["GroupId"]
        cw = aws.client("cloudwatch", REGION)
        for name in ("team-b-latency", "upskill-team-b-orders-cpu"):  # another team's; untagged under our prefix
            cw.put_metric_alarm(AlarmName=name, **ALARM)
        master = cluster["MasterUserSecret"]["SecretArn"]
        yield Foreign(aws, enforcer, principal, master, cluster["DBClusterArn"], group)


ALARM: dict[str, Any] = {
    "Namespace": "AWS/RDS",
    "MetricName": "CPUUtilization",
    "Statistic": "Average",
    "Period": 60,
    "EvaluationPeriods": 1,
    "Threshold": 90.0,
    "ComparisonOperator": "GreaterThanThreshold",
}


def _alarms(cw: Any) -> list[tuple[str, float, Any]]:
    """Each alarm's name, threshold and tags."""
    found = cw.describe_alarms()["MetricAlarms"]
    tags = [cw.list_tags_for_resource(ResourceARN=a["AlarmArn"])["Tags"] for a in found]
    return [(a["AlarmName"], a["Threshold"], t) for a, t in zip(found, tags, strict=True)]


def _abuses(f: Foreign) -> dict[str, Callable[[], Any]]:
    sm, ddb, rds, iam, ec2 = (f.attacker(s) for s in ("secretsmanager", "dynamodb", "rds", "iam", "ec2"))
    cw = f.attacker("cloudwatch")
    foreign_alarm = f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:team-b-latency"
    boundary = f.principal.boundary_arn
    return {
        # Takeover of an untagged secret of another team: tag it, read it, change it, destroy it.
        "tag a foreign secret": lambda: sm.tag_resource(SecretId="team-b/stripe-live", Tags=OWNER),
        "read a foreign secret": lambda: sm.get_secret_value(SecretId="team-b/stripe-live"),
        "overwrite a foreign secret": lambda: sm.put_secret_value(SecretId="team-b/stripe-live", SecretString="x"),
        "destroy a foreign secret": lambda: sm.delete_secret(
            SecretId="team-b/stripe-live", ForceDeleteWithoutRecovery=True
        ),
        "read an untagged secret under the prefix": lambda: sm.get_secret_value(SecretId="upskill/team-b/stripe"),
        "create a secret outside the prefix": lambda: sm.create_secret(Name="team-b/new", SecretString="x", Tags=OWNER),
        # Every RDS-managed master password of the account.
        "read another cluster's master secret": lambda: sm.get_secret_value(SecretId=f.rds_secret_arn),
        "tag another cluster's master secret": lambda: sm.tag_resource(SecretId=f.rds_secret_arn, Tags=OWNER),
        "rotate another cluster's master secret": lambda: sm.rotate_secret(SecretId=f.rds_secret_arn),
        # An untagged DynamoDB table: tags, stream, TTL, PITR, deletion.
        "tag a foreign table": lambda: ddb.tag_resource(
            ResourceArn=f"arn:aws:dynamodb:{REGION}:123456789012:table/team-b-orders", Tags=OWNER
        ),
        "stream a foreign table": lambda: ddb.update_table(
            TableName="team-b-orders", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
        ),
        "TTL on a foreign table": lambda: ddb.update_time_to_live(
            TableName="team-b-orders", TimeToLiveSpecification={"Enabled": True, "AttributeName": "total"}
        ),
        "PITR on a foreign table": lambda: ddb.update_continuous_backups(
            TableName="team-b-orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        ),
        "delete a foreign table": lambda: ddb.delete_table(TableName="team-b-orders"),
        "read a foreign table": lambda: ddb.get_item(TableName="team-b-orders", Key={"pk": {"S": "order#1"}}),
        # An untagged Aurora cluster: tag first, then modify or delete.
        "tag a foreign cluster": lambda: rds.add_tags_to_resource(ResourceName=f.cluster_arn, Tags=OWNER),
        "modify a foreign cluster": lambda: rds.modify_db_cluster(
            DBClusterIdentifier="team-b-db", DeletionProtection=False, ApplyImmediately=True
        ),
        "delete a foreign cluster": lambda: rds.delete_db_cluster(
            DBClusterIdentifier="team-b-db", SkipFinalSnapshot=True
        ),
        # Roles with any policy and any trust.
        "a role without the boundary": lambda: iam.create_role(
            RoleName="upskill-evil", AssumeRolePolicyDocument=TRUST_ANYONE
        ),
        "a role under another boundary": lambda: iam.create_role(
            RoleName="upskill-evil",
            AssumeRolePolicyDocument=TRUST_ANYONE,
            PermissionsBoundary="arn:aws:iam::aws:policy/AdministratorAccess",
        ),
        "a policy on an unbounded role": lambda: iam.put_role_policy(
            RoleName="upskill-legacy", PolicyName="x", PolicyDocument=ADMIN
        ),
        "a trust on an unbounded role": lambda: iam.update_assume_role_policy(
            RoleName="upskill-legacy", PolicyDocument=TRUST_ANYONE
        ),
        "drop a role's boundary": lambda: iam.delete_role_permissions_boundary(RoleName="upskill-legacy"),
        "set a role's boundary": lambda: iam.put_role_permissions_boundary(
            RoleName="upskill-legacy", PermissionsBoundary=boundary
        ),
        "attach a managed policy": lambda: iam.attach_role_policy(
            RoleName="upskill-legacy", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        ),
        "edit the operator's own role": lambda: iam.put_role_policy(
            RoleName="operator-upskill", PolicyName="more", PolicyDocument=ADMIN
        ),
        # A security group the operator did not create.
        "tag a foreign security group": lambda: ec2.create_tags(Resources=[f.group_id], Tags=OWNER),
        "open a foreign security group": lambda: ec2.authorize_security_group_ingress(
            GroupId=f.group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        ),
        "delete a foreign security group": lambda: ec2.delete_security_group(GroupId=f.group_id),
        # CloudWatch alarms of another team, and an untagged one under our prefix.
        "overwrite a foreign alarm": lambda: cw.put_metric_alarm(
            AlarmName="team-b-latency", **{**ALARM, "Threshold": 1.0}
        ),
        "tag a foreign alarm": lambda: cw.tag_resource(ResourceARN=foreign_alarm, Tags=OWNER),
        "delete a foreign alarm": lambda: cw.delete_alarms(AlarmNames=["team-b-latency"]),
        "delete an untagged alarm under the prefix": lambda: cw.delete_alarms(AlarmNames=["upskill-team-b-orders-cpu"]),
    }


def test_each_abuse_is_denied_and_changes_nothing(foreign: Foreign) -> None:
    before = foreign.state()
    allowed = []
    for name, attempt in _abuses(foreign).items():
        try:
            attempt()
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            assert code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"), f"{name}: {code}"
        else:
            allowed.append(name)
    assert allowed == [], f"IAM allowed: {allowed}"
    assert foreign.state() == before
    assert len(foreign.enforcer.denied()) >= len(_abuses(foreign))


def test_a_role_made_under_the_boundary_can_do_no_more_than_the_boundary(foreign: Foreign) -> None:
    """Creating a bounded role with an admin policy and open trust is allowed; what it may do stays bounded."""
    iam = foreign.attacker("iam")
    bounded = {"RoleName": "upskill-bounded", "AssumeRolePolicyDocument": TRUST_ANYONE}
    iam.create_role(**bounded, PermissionsBoundary=foreign.principal.boundary_arn)
    iam.put_role_policy(RoleName="upskill-bounded", PolicyName="admin", PolicyDocument=ADMIN)
    credentials = foreign.admin("sts").assume_role(
        RoleArn="arn:aws:iam::123456789012:role/upskill-bounded", RoleSessionName="bounded"
    )["Credentials"]
    session = boto3.session.Session(
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    sm = session.client("secretsmanager", endpoint_url=foreign.aws.url)
    with pytest.raises(ClientError, match="AccessDenied"):
        sm.get_secret_value(SecretId="team-b/stripe-live")
    with pytest.raises(ClientError, match="AccessDenied"):
        sm.get_secret_value(SecretId=foreign.rds_secret_arn)
    iam_as_role = session.client("iam", endpoint_url=foreign.aws.url)
    with pytest.raises(ClientError, match="AccessDenied"):
        iam_as_role.create_user(UserName="backdoor")


def test_the_principal_is_proven_by_its_signature_not_its_key_id(foreign: Foreign) -> None:
    forged = {**foreign.principal.session_kwargs(), "aws_secret_access_key": "not-the-secret"}
    ddb = boto3.session.Session(region_name=REGION, **forged).client("dynamodb", endpoint_url=foreign.aws.url)
    with pytest.raises(ClientError, match="signature"):
        ddb.describe_table(TableName="upskill-anything")
    honest = foreign.attacker("dynamodb")
    with pytest.raises(ClientError, match="ResourceNotFound"):
        honest.describe_table(TableName="upskill-anything")
