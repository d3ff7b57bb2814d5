"""Benchmark: UpskillDatabase through the operator vs the same AWS calls made directly with boto3.

    .venv/bin/python bench/databases.py [COPIES]        (default: 3 of each example)

Three tables:

1. apply-to-Ready time of each shipped example (auth-db, course-db; median of COPIES copies applied
   one after the other) against the direct boto3 sequence of the same creates, and their ratio;
2. AWS calls per database during steady-state resyncs (every HTTP attempt, counted by the
   operator's own ``upskill_aws_api_attempts_total``), by service;
3. RDS calls per second at steady state for 500 databases at the default database resync
   interval (``Settings.kind_resync_seconds``), against RDS's ~12/s per-account limit and the
   operator's own client-side limit. This row is COMPUTED from the measured calls per database
   (running 500 emulated databases here would measure moto, not the operator).

The emulator runs without transitional states (``pending_describes=0``), so both sides see the
same instant AWS and the ratio is the operator's own overhead (observe before every write,
ownership checks, status writes, kopf scheduling). Fair by construction: the operator runs with
its default settings (the 5 s requeue, the 8/s RDS limit); the baseline runs after the operator
is STOPPED, on the idle bed, under the same client-side limits (one token bucket per service for
the whole run, as in the operator), one database after the other as the operator was given them.
The ratio is printed both ways with the load average around each side; figures go to
``.bench/figures.json``.
"""

from __future__ import annotations

import copy
import json
import os
import re
import statistics
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import boto3

from upskill_operator.config import AwsSettings, Settings
from upskill_operator.generate import kubectl_yaml

from common import REGION, Bed, bed, limited, load, print_table, ratios, record, wait

NAMESPACE = "bench"
EXAMPLES = Path(__file__).parents[1] / "manifests/examples/upskill-stack"
STEADY_RESYNC = 4.0
"""Database resync while measuring calls per resync (short, so a few rounds take seconds)."""
RDS_LIMIT = 12.0
_PASSES = re.compile(r'^upskill_reconcile_total\{kind="UpskillDatabase",result="ready"\} ([0-9.e+]+)$', re.M)


def doc(which: str, name: str) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(kubectl_yaml.load((EXAMPLES / f"{which}-db.yaml").read_text()))
    for key in ("migrations", "probe"):
        body["spec"].pop(key, None)
    body["metadata"] = {"name": name, "namespace": NAMESPACE}
    return body


def is_ready(obj: dict[str, Any] | None) -> bool:
    conds = ((obj or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


def operator_seconds(state: Bed, which: str, copies: int) -> list[float]:
    times = []
    for i in range(copies):
        name = f"{which}-{i}"
        started = time.perf_counter()
        state.kube.apply_manifest(doc(which, name))
        deadline = time.monotonic() + 120
        while not is_ready(state.kube.get("upskill.io/v1alpha1", "upskilldatabases", NAMESPACE, name)):
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} not Ready after 120 s")
            time.sleep(0.02)
        times.append(time.perf_counter() - started)
    return times


def direct_boto3(url: str, which: str, name: str) -> float:
    """The operator's creates, in its order, with plain boto3 (the emulator is instant: no waits)."""
    spec = doc(which, name)["spec"]
    c = {s: limited(boto3.client(s, endpoint_url=url, region_name=REGION), s) for s in ("rds", "ec2", "iam", "kms")}
    tags = [{"Key": "upskill.io/owner", "Value": f"{NAMESPACE}/{name}"}]
    started = time.perf_counter()
    subnets = c["ec2"].describe_subnets(Filters=[{"Name": "tag:tier", "Values": ["private"]}])["Subnets"]
    ids, vpc = [s["SubnetId"] for s in subnets], subnets[0]["VpcId"]
    c["rds"].create_db_subnet_group(DBSubnetGroupName=name, DBSubnetGroupDescription="d", SubnetIds=ids, Tags=tags)
    sg = c["ec2"].create_security_group(GroupName=f"{name}-db", Description="d", VpcId=vpc)["GroupId"]
    c["ec2"].authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
                "UserIdGroupPairs": [{"GroupId": sg}],
            }
        ],
    )
    serverless = spec["capacity"].get("serverless")
    extra: dict[str, Any] = {}
    if serverless:
        extra["ServerlessV2ScalingConfiguration"] = {"MinCapacity": 0, "MaxCapacity": 4, "SecondsUntilAutoPause": 300}
    if spec.get("kmsKeyId"):
        key = c["kms"].describe_key(KeyId=spec["kmsKeyId"])["KeyMetadata"]["Arn"]
        extra.update(KmsKeyId=key, MasterUserSecretKmsKeyId=key)
    cluster = c["rds"].create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        DatabaseName=spec["databaseName"],
        MasterUsername="upskill_admin",
        ManageMasterUserPassword=True,
        DBSubnetGroupName=name,
        VpcSecurityGroupIds=[sg],
        StorageEncrypted=True,
        EnableIAMDatabaseAuthentication=True,
        BackupRetentionPeriod=7,
        PreferredBackupWindow="03:00-04:00",
        CopyTagsToSnapshot=True,
        DeletionProtection=True,
        Tags=tags,
        **extra,
    )["DBCluster"]
    readers = (serverless or spec["capacity"]["provisioned"]).get("readReplicas", 0)
    klass = "db.serverless" if serverless else spec["capacity"]["provisioned"]["instanceClass"]
    for i in range(1 + readers):
        c["rds"].create_db_instance(
            DBInstanceIdentifier=f"{name}-{i}",
            DBClusterIdentifier=name,
            Engine="aurora-postgresql",
            DBInstanceClass=klass,
            Tags=tags,
        )
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    role = c["iam"].create_role(RoleName=f"{name}-proxy", AssumeRolePolicyDocument=trust, Tags=tags)["Role"]["Arn"]
    secret = cluster["MasterUserSecret"]["SecretArn"]
    statement = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    c["iam"].put_role_policy(RoleName=f"{name}-proxy", PolicyName="p", PolicyDocument=policy)
    c["rds"].create_db_proxy(
        DBProxyName=name,
        EngineFamily="POSTGRESQL",
        RoleArn=role,
        VpcSubnetIds=ids,
        VpcSecurityGroupIds=[sg],
        Auth=[{"AuthScheme": "SECRETS", "SecretArn": secret, "IAMAuth": "REQUIRED"}],
        RequireTLS=True,
        IdleClientTimeout=1800,
        Tags=tags,
    )
    c["rds"].register_db_proxy_targets(DBProxyName=name, TargetGroupName="default", DBClusterIdentifiers=[name])
    c["rds"].modify_db_proxy_target_group(
        DBProxyName=name,
        TargetGroupName="default",
        ConnectionPoolConfig={
            "MaxConnectionsPercent": 90,
            "MaxIdleConnectionsPercent": 45,
            "ConnectionBorrowTimeout": 5,
        },
    )
    if spec["proxy"].get("readOnlyEndpoint"):
        c["rds"].create_db_proxy_endpoint(
            DBProxyName=name,
            DBProxyEndpointName=f"{name}-ro",
            VpcSubnetIds=ids,
            VpcSecurityGroupIds=[sg],
            TargetRole="READ_ONLY",
            Tags=tags,
        )
    return time.perf_counter() - started


def passes(state: Bed) -> int:
    """Reconcile passes of databases so far (the operator's upskill_reconcile_total)."""
    text = urllib.request.urlopen(state.metrics_url, timeout=5).read().decode()
    return sum(int(float(m.group(1))) for m in _PASSES.finditer(text))


def by_service(after: Counter[tuple[str, str]], before: Counter[tuple[str, str]]) -> Counter[str]:
    delta: Counter[str] = Counter()
    for (service, _), count in after.items():
        delta[service] += count - before.get((service, _), 0)
    return delta


def steady_calls(state: Bed) -> tuple[Counter[str], float, float]:
    """Per database per resync pass: AWS calls by service, AWS writes, Kubernetes writes."""
    before, passes_before, kube_before = state.attempts(), passes(state), state.kube_writes("upskilldatabases")
    time.sleep(6 * STEADY_RESYNC)
    after = state.attempts()
    count = passes(state) - passes_before
    kube = (state.kube_writes("upskilldatabases") - kube_before) / count
    writes = sum(v - before.get(k, 0) for k, v in after.items() if not k[1].startswith(("Describe", "List", "Get")))
    delta = by_service(after, before)
    return Counter({s: round(v / count, 2) for s, v in delta.items() if v}), writes / count, kube


def main() -> None:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    rows, timings, per_db = [], {}, Counter[str]()
    os.environ["UPSKILL_KIND_RESYNC_SECONDS"] = "UpskillDatabase=3600"  # creation only: no resync in the counts
    with bed(3600, NAMESPACE) as state:
        state.aws.seed_vpc(REGION)
        load_start = load()
        made = {}
        for which in ("auth", "course"):
            before = state.attempts()
            timings[which] = statistics.median(operator_seconds(state, which, copies))
            made[which] = by_service(state.attempts(), before)
        load_operator = load()
        state.stop_operator()
        time.sleep(3)
        load_idle = load()
        for which in ("auth", "course"):
            direct = statistics.median(direct_boto3(state.aws.url, which, f"direct-{which}-{i}") for i in range(copies))
            calls = ", ".join(f"{s} {v / copies:.0f}" for s, v in sorted(made[which].items()) if v >= copies)
            op = timings[which]
            rows.append([f"{which}-db", f"{op:.2f}", f"{direct:.3f}", *ratios(op, direct), calls])
            record("databases", {f"{which}_ready_ratio": op / direct})
        load_end = load()
    os.environ["UPSKILL_KIND_RESYNC_SECONDS"] = f"UpskillDatabase={STEADY_RESYNC}"
    with bed(3600, NAMESPACE) as state:
        state.aws.seed_vpc(REGION)
        for which in ("auth", "course"):
            operator_seconds(state, which, copies)
        wait(lambda: passes(state) >= 4 * copies, 60, "steady-state resyncs")
        per_db, aws_writes, kube_writes = steady_calls(state)
    print_table(
        [
            "example",
            "operator: apply→Ready (s, median)",
            "boto3 direct, idle bed (s, median)",
            "operator/direct",
            "direct/operator",
            "operator calls to Ready",
        ],
        rows,
    )
    print(f"load average: operator {load_start} -> {load_operator} | baseline {load_idle} -> {load_end}\n")
    total = sum(per_db.values())
    print_table(
        ["AWS calls per database per resync", "rds", "ec2", "iam", "all", "AWS writes", "Kube writes"],
        [
            [
                "measured per resync pass (mean of both examples)",
                *(f"{per_db.get(s, 0):.2f}" for s in ("rds", "ec2", "iam")),
                f"{total:.2f}",
                f"{aws_writes:.2f}",
                f"{kube_writes:.2f}",
            ]
        ],
    )
    record(
        "databases",
        {
            "reads_per_db_per_resync": total - aws_writes,
            "writes_per_db_per_resync": aws_writes + kube_writes,
        },
    )
    print()
    resync = Settings().kind_resync_seconds["UpskillDatabase"]
    client_limit = AwsSettings().calls_per_second["rds"]
    rate = 500 * per_db.get("rds", 0) / resync
    print_table(
        ["databases", "default resync (s)", "RDS calls/s (computed)", "share of RDS's ~12/s", "client-side cap (rds)"],
        [["500", f"{resync:.0f}", f"{rate:.2f}", f"{rate / RDS_LIMIT:.0%}", f"{client_limit:.0f}/s"]],
    )


if __name__ == "__main__":
    main()
