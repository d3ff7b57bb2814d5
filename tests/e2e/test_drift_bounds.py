"""Drift in every managed field is repaired within the stated bound, with the deep reads on their slow cadence.

The bound (README, "Reads per resync"): a field the cheap read shows (DescribeTable; the cluster and
its instances) within one resync interval R; a field only a deep read shows within
``deep_read_every`` x R; both plus the pass that repairs it. The bed runs R = 3 s and
``deep_read_every`` = 2, so 6 s plus one pass; each test changes fields of both sorts with plain boto3
behind the operator's back and checks every one is back within that bound (plus a margin for a
loaded machine), timed from the change.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import NAMESPACE, Bed, wait_for
from e2e.db_support import Aws, cluster_id, database_operator, db_doc, ready, tags, unique
from e2e.test_tables import ready as table_ready
from e2e.test_tables import table_doc

pytestmark = pytest.mark.e2e

MARGIN = 4.0
"""Seconds allowed beyond the bound for the emulators on a loaded 2-core machine."""


def bound(bed: Bed, kind: str) -> float:
    """The stated worst case: ``deep_read_every`` resyncs of the kind, plus one resync for the repairing pass."""
    resync = bed.settings.kind_resync_seconds.get(kind, bed.settings.resync_seconds)
    return bed.settings.deep_read_every * resync + resync


def repaired_within(checks: dict[str, Callable[[], bool]], limit: float) -> dict[str, float]:
    """Seconds until each check first held; fails naming the fields still drifted at ``limit`` + MARGIN."""
    started, seen = time.monotonic(), {}
    while time.monotonic() - started < limit + MARGIN and len(seen) < len(checks):
        for field, check in checks.items():
            if field not in seen and check():
                seen[field] = time.monotonic() - started
        time.sleep(0.2)
    missing = sorted(set(checks) - set(seen))
    assert not missing, f"not repaired within {limit:.0f} s (+{MARGIN:.0f} s margin): {missing}; repaired: {seen}"
    return seen


def test_table_drift_in_every_field_is_repaired_within_the_bound(bed: Bed, operator: OperatorThread) -> None:
    name = unique("bound")
    bed.apply(table_doc(name, stream=None, globalIndexes=[], encryption=None))
    table_ready(bed, name)
    ddb, table = bed.boto("dynamodb"), f"upskill-{NAMESPACE}-{name}"
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]

    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expiresAt"})
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "someone-else"}])
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})

    def pitr() -> dict[str, Any]:
        return dict(
            ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"][
                "PointInTimeRecoveryDescription"
            ]
        )

    repaired_within(
        {
            "ttl": lambda: (
                ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
            ),
            "pointInTimeRecovery": lambda: (
                pitr()["PointInTimeRecoveryStatus"] == "ENABLED" and pitr()["RecoveryPeriodInDays"] == 14
            ),
            "tags": lambda: tags(ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]).get("team") == "learning",
            "stream": lambda: (
                not (ddb.describe_table(TableName=table)["Table"].get("StreamSpecification") or {}).get("StreamEnabled")
            ),
        },
        bound(bed, "UpskillTable"),
    )
    table_ready(bed, name)


def test_table_drift_only_deep_reads_see_waits_for_them(bed: Bed, operator: OperatorThread) -> None:
    """The cadence is real: between deep reads, resyncs read DescribeTable only (so PITR drift waits)."""
    name = unique("cadence")
    bed.apply(table_doc(name, stream=None, globalIndexes=[], encryption=None))
    table_ready(bed, name)
    ddb, table = bed.boto("dynamodb"), f"upskill-{NAMESPACE}-{name}"
    resync = bed.settings.resync_seconds
    bed.calls.clear()
    time.sleep(bed.settings.deep_read_every * resync * 3)
    describes = bed.calls.calls.count(("dynamodb", "DescribeTable"))
    deep = bed.calls.calls.count(("dynamodb", "DescribeContinuousBackups"))
    assert describes >= 4
    assert deep <= describes / bed.settings.deep_read_every + 1, (describes, deep)  # other tests' tables too
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    wait_for(
        lambda: (
            ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"][
                "PointInTimeRecoveryDescription"
            ]["PointInTimeRecoveryStatus"]
            == "ENABLED"
        ),
        bound(bed, "UpskillTable") + MARGIN,
        "PITR repaired",
    )


@pytest.fixture
def db_operator(bed: Bed) -> Iterator[OperatorThread]:
    with database_operator(bed, pending=0) as running:  # instant AWS: the bound, not RDS's own waits
        yield running


def test_database_drift_in_every_part_is_repaired_within_the_bound(bed: Bed, db_operator: OperatorThread) -> None:
    name = unique("bound")
    bed.apply(db_doc("course", name, tags={"team": "learning"}))
    ready(bed, name)
    aws, ident = Aws(bed), cluster_id(name)
    cluster = aws.cluster(name)
    group = aws.subnet_groups(name)[0]
    sg = aws.security_groups(name)[0]
    (endpoint,) = aws.endpoints(name)
    role_name = aws.proxy(name)["RoleArn"].split("/")[-1]
    writer = next(i for i in aws.instances(name) if i["DBInstanceIdentifier"].endswith("-0"))

    aws.rds.modify_db_cluster(DBClusterIdentifier=ident, BackupRetentionPeriod=1, ApplyImmediately=True)
    aws.rds.remove_tags_from_resource(ResourceName=cluster["DBClusterArn"], TagKeys=["team"])
    aws.rds.remove_tags_from_resource(ResourceName=writer["DBInstanceArn"], TagKeys=["team"])
    aws.rds.remove_tags_from_resource(ResourceName=group["DBSubnetGroupArn"], TagKeys=["team"])
    aws.ec2.authorize_security_group_ingress(
        GroupId=sg["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    aws.iam.put_role_policy(
        RoleName=role_name,
        PolicyName="upskill-proxy-master-secret",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    aws.rds.modify_db_proxy(DBProxyName=ident, RequireTLS=False, IdleClientTimeout=60)
    aws.rds.modify_db_proxy_target_group(
        DBProxyName=ident, TargetGroupName="default", ConnectionPoolConfig={"ConnectionBorrowTimeout": 120}
    )
    aws.rds.remove_tags_from_resource(ResourceName=endpoint["DBProxyEndpointArn"], TagKeys=["team"])

    def policy_actions() -> list[str]:
        document = aws.iam.get_role_policy(RoleName=role_name, PolicyName="upskill-proxy-master-secret")
        return [s["Action"] for s in document["PolicyDocument"]["Statement"]]

    def arn_tags(arn: str) -> dict[str, str]:
        return tags(aws.rds.list_tags_for_resource(ResourceName=arn)["TagList"])

    repaired_within(
        {
            "cluster.backup": lambda: aws.cluster(name)["BackupRetentionPeriod"] == 7,
            "cluster.tags": lambda: tags(aws.cluster(name)["TagList"]).get("team") == "learning",
            "instance.tags": lambda: arn_tags(writer["DBInstanceArn"]).get("team") == "learning",
            "subnetGroup.tags": lambda: arn_tags(group["DBSubnetGroupArn"]).get("team") == "learning",
            "securityGroup.rules": lambda: (
                [r["FromPort"] for r in aws.security_groups(name)[0]["IpPermissions"]] == [5432]
            ),
            "role.policy": lambda: (
                policy_actions()[0] == "secretsmanager:GetSecretValue" and "s3:*" not in policy_actions()
            ),
            "proxy.fields": lambda: (
                (aws.proxy(name)["RequireTLS"], aws.proxy(name)["IdleClientTimeout"]) == (True, 1800)
            ),
            "proxy.pool": lambda: aws.pool(name)["ConnectionBorrowTimeout"] == 5,
            "endpoint.tags": lambda: arn_tags(endpoint["DBProxyEndpointArn"]).get("team") == "learning",
        },
        bound(bed, "UpskillDatabase"),
    )
    ready(bed, name)


def test_alarm_drift_and_state_show_within_two_resyncs(bed: Bed, operator: OperatorThread) -> None:
    """Alarms are read from one shared read per namespace, younger than R/2: a change shows within 2 x R + a pass."""
    name = unique("alarmbound")
    bed.apply(table_doc(name, stream=None, globalIndexes=[], encryption=None, monitoring={}))
    table_ready(bed, name)
    cw, alarm = bed.boto("cloudwatch"), f"upskill-{NAMESPACE}-{name}-read-throttles"
    wait_for(lambda: cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"], 30, "alarm created")
    wait_for(lambda: (o := bed.get("upskilltables", name)) and (o["status"].get("alarms") or []), 30, "alarms shown")
    time.sleep(bed.settings.resync_seconds)  # settled: the passes now use the shared read
    found = cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]
    keep = ("AlarmName", "MetricName", "Namespace", "Statistic", "Period", "EvaluationPeriods", "Dimensions")
    cw.put_metric_alarm(**{k: found[k] for k in keep}, ComparisonOperator="GreaterThanThreshold", Threshold=900.0)
    cw.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test: throttled")

    def shown_state() -> str | None:
        listed = (bed.get("upskilltables", name) or {}).get("status", {}).get("alarms") or []
        return next((a["state"] for a in listed if a["name"] == alarm), None)

    resync = bed.settings.kind_resync_seconds.get("UpskillTable", bed.settings.resync_seconds)
    repaired_within(
        {
            "threshold": lambda: cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["Threshold"] == 0.0,
            "state in status": lambda: shown_state() == "ALARM",
        },
        2 * resync + resync,
    )
