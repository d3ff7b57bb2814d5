"""Benchmark: an UpskillDatabase restored from a snapshot, through the operator vs the bare AWS calls.

    .venv/bin/python bench/recovery_database.py [COPIES]        (default: 3)

:func:`rows` gives one table row (``HEADERS``): apply→Ready of the auth example (proxy off: the
restore, not the proxy, is measured) restored from a cluster snapshot with
``restore: {fromSnapshot: {identifier: ...}}``, median of COPIES, against the same work done directly
with boto3 after the operator is STOPPED (idle bed, the operator's client-side limits): the subnet
group, the security group, RestoreDBClusterFromSnapshot, the ModifyDBCluster that turns the managed
master secret on, and the instance. The operator's side also includes what the direct side skips on
purpose: the source check (DescribeDBClusterSnapshots, DescribeKey), observing before every write and
the status writes. The emulator is instant (no transitional states), so the ratio is the operator's
own overhead; AWS itself takes tens of minutes for a restore (docs/recovery.md).
"""

from __future__ import annotations

import copy
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import boto3

from upskill_operator.generate import kubectl_yaml

from common import REGION, Bed, bed, limited, load, print_table, ratios, record

__all__ = ["HEADERS", "rows"]

NAMESPACE = "bench"
EXAMPLE = Path(__file__).parents[1] / "manifests/examples/upskill-stack/auth-db.yaml"
SNAPSHOT = "bench-source-snap"
HEADERS = [
    "restore",
    "operator: apply→Ready (s, median)",
    "boto3 direct, idle bed (s, median)",
    "operator/direct",
    "direct/operator",
]


def _doc(name: str) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(kubectl_yaml.load(EXAMPLE.read_text()))
    for key in ("migrations", "probe"):
        body["spec"].pop(key, None)
    body["spec"].update(
        proxy={"enabled": False}, deletionProtection=False, restore={"fromSnapshot": {"identifier": SNAPSHOT}}
    )
    body["metadata"] = {"name": name, "namespace": NAMESPACE}
    return body


def _client(url: str, service: str) -> Any:
    return limited(boto3.client(service, endpoint_url=url, region_name=REGION), service)


def _source(url: str) -> None:
    """A cluster of this namespace and its manual snapshot: what every restore starts from."""
    rds, ec2 = _client(url, "rds"), _client(url, "ec2")
    subnets = [
        s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "tag:tier", "Values": ["private"]}])["Subnets"]
    ]
    rds.create_db_subnet_group(DBSubnetGroupName="bench-source", DBSubnetGroupDescription="d", SubnetIds=subnets)
    rds.create_db_cluster(
        DBClusterIdentifier="bench-source",
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        DatabaseName="auth",
        MasterUsername="upskill_admin",
        ManageMasterUserPassword=True,
        DBSubnetGroupName="bench-source",
        StorageEncrypted=True,
        CopyTagsToSnapshot=True,
        Tags=[{"Key": "upskill.io/owner", "Value": f"{NAMESPACE}/source"}],
    )
    rds.create_db_cluster_snapshot(DBClusterIdentifier="bench-source", DBClusterSnapshotIdentifier=SNAPSHOT)


def _ready(obj: dict[str, Any] | None) -> bool:
    conds = ((obj or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


def operator_seconds(state: Bed, copies: int) -> list[float]:
    times = []
    for i in range(copies):
        name = f"restored-{i}"
        started = time.perf_counter()
        state.kube.apply_manifest(_doc(name))
        deadline = time.monotonic() + 120
        while not _ready(state.kube.get("upskill.io/v1alpha1", "upskilldatabases", NAMESPACE, name)):
            if time.monotonic() > deadline:
                obj = state.kube.get("upskill.io/v1alpha1", "upskilldatabases", NAMESPACE, name) or {}
                shown = [(c.get("type"), c.get("message")) for c in (obj.get("status") or {}).get("conditions") or []]
                raise SystemExit(f"{name} not Ready after 120 s: {shown}")
            time.sleep(0.02)
        times.append(time.perf_counter() - started)
    return times


def direct_seconds(url: str, name: str) -> float:
    rds, ec2 = _client(url, "rds"), _client(url, "ec2")
    tags = [{"Key": "upskill.io/owner", "Value": f"{NAMESPACE}/{name}"}]
    started = time.perf_counter()
    subnets = ec2.describe_subnets(Filters=[{"Name": "tag:tier", "Values": ["private"]}])["Subnets"]
    ids, vpc = [s["SubnetId"] for s in subnets], subnets[0]["VpcId"]
    rds.create_db_subnet_group(DBSubnetGroupName=name, DBSubnetGroupDescription="d", SubnetIds=ids, Tags=tags)
    group = ec2.create_security_group(GroupName=f"{name}-db", Description="d", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": group}]}
        ],
    )
    rds.restore_db_cluster_from_snapshot(
        DBClusterIdentifier=name,
        SnapshotIdentifier=SNAPSHOT,
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        DBSubnetGroupName=name,
        VpcSecurityGroupIds=[group],
        EnableIAMDatabaseAuthentication=True,
        BackupRetentionPeriod=7,
        CopyTagsToSnapshot=True,
        ServerlessV2ScalingConfiguration={"MinCapacity": 0, "MaxCapacity": 4, "SecondsUntilAutoPause": 300},
        Tags=tags,
    )
    rds.modify_db_cluster(DBClusterIdentifier=name, ManageMasterUserPassword=True, ApplyImmediately=True)
    rds.create_db_instance(
        DBInstanceIdentifier=f"{name}-0",
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        DBInstanceClass="db.serverless",
        Tags=tags,
    )
    return time.perf_counter() - started


def rows(copies: int = 3) -> list[list[str]]:
    """One row: the restored database's apply→Ready against the bare AWS calls, on an idle bed."""
    with bed(3600, NAMESPACE) as state:
        state.aws.seed_vpc(REGION)
        _source(state.aws.url)
        before = load()
        operator = statistics.median(operator_seconds(state, copies))
        state.stop_operator()
        time.sleep(3)
        idle = load()
        direct = statistics.median(direct_seconds(state.aws.url, f"direct-restored-{i}") for i in range(copies))
        print(f"load average: operator {before} | baseline {idle} -> {load()}", file=sys.stderr)
    record("recovery", {"database_restore_ready_ratio": operator / direct})
    return [["database from snapshot", f"{operator:.2f}", f"{direct:.3f}", *ratios(operator, direct)]]


def main() -> None:
    print_table(HEADERS, rows(int(sys.argv[1]) if len(sys.argv) > 1 else 3))


if __name__ == "__main__":
    main()
