"""UpskillDatabase end to end, the hard cases: a crash after every AWS write, deletion policies, foreign objects.

The crash is a hook on the operator's HTTP attempts (an attempt observer in ``bed.hooks``): it lets the first
mutating RDS/EC2/IAM call of an operator incarnation through, then answers every later attempt
with a 503, as if the process had died right after that call; the test then stops that operator
and starts a new one. No sleeps: each step waits on the hook's event or on status.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from e2e.conftest import NAMESPACE, Bed, condition, is_mutating, is_ready, wait_for
from e2e.db_support import (
    DB_SERVICES,
    Aws,
    cluster_id,
    database_operator,
    db_doc,
    db_writes,
    get,
    ready,
    tags,
    terminal,
    unique,
)

pytestmark = pytest.mark.e2e


class _Raw:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b"<ErrorResponse><Error><Code>ServiceUnavailable</Code><Message>crashed</Message></Error></ErrorResponse>"


class Crash:
    """Lets one mutating database call through per incarnation, then plays dead until re-armed."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fired = threading.Event()
        self.enabled = True
        self._lock = threading.Lock()

    def arm(self) -> None:
        self.fired.clear()

    def disarm(self) -> None:
        self.enabled = False

    def __call__(self, service: str, operation: str) -> AWSResponse | None:
        with self._lock:
            if not self.enabled:
                return None
            if self.fired.is_set():
                return AWSResponse("https://crashed", 503, {}, _Raw())
            if service in DB_SERVICES and is_mutating(operation):
                self.calls.append(f"{service}:{operation}")
                self.fired.set()
        return None


@pytest.fixture
def crash(bed: Bed) -> Iterator[Crash]:
    hook = Crash()
    bed.hooks.attempts.append(hook)
    try:
        yield hook
    finally:
        bed.hooks.attempts.remove(hook)


def test_restart_after_every_mutating_call_ends_with_one_of_each(bed: Bed, crash: Crash) -> None:
    name = unique("crash")
    applied = False
    for _ in range(40):
        crash.arm()
        # A crashed pass backs off (kopf keeps its retry count across restarts): a 1 s resync resumes sooner.
        with database_operator(bed, pending=0, resync=1, clean=False):
            if not applied:
                bed.apply(db_doc("course", name))
                applied = True
            wait_for(lambda: crash.fired.is_set() or is_ready(get(bed, name)), 30, "a write or Ready")
        if not crash.fired.is_set():
            break
    else:
        pytest.fail(f"no convergence after {len(crash.calls)} crashes: {crash.calls}")
    assert len(crash.calls) >= 12  # every create and the pool change, each followed by a crash
    assert "rds:CreateDBCluster" in crash.calls
    assert "rds:CreateDBProxyEndpoint" in crash.calls

    aws = Aws(bed)
    assert len(aws.subnet_groups(name)) == len(aws.security_groups(name)) == len(aws.clusters(name)) == 1
    assert [i["DBInstanceIdentifier"] for i in aws.instances(name)] == [
        f"{cluster_id(name)}-0",
        f"{cluster_id(name)}-1",
    ]
    assert len(aws.roles(name)) == len(aws.proxies(name)) == len(aws.targets(name)) == len(aws.endpoints(name)) == 1
    (group,) = aws.security_groups(name)
    assert len(group["IpPermissions"]) == 1  # the rules survived a crash between create and authorize
    role = aws.roles(name)[0]["RoleName"]
    assert aws.iam.list_role_policies(RoleName=role)["PolicyNames"] == ["upskill-proxy-master-secret"]
    assert aws.pool(name)["ConnectionBorrowTimeout"] == 5
    crash.disarm()
    with database_operator(bed):
        ready(bed, name)  # still Ready once nothing fails any more (then cleaned up)


def test_deletion_policies(bed: Bed) -> None:
    snap, delete, retain, guarded = unique("snap"), unique("del"), unique("keep"), unique("guard")
    with database_operator(bed):
        bed.apply(db_doc("course", snap, deletionPolicy="Snapshot"))
        bed.apply(db_doc("auth", delete))
        bed.apply(db_doc("auth", retain, deletionPolicy="Retain", tags={"team": "learning"}))
        bed.apply(db_doc("auth", guarded, deletionProtection=True, deletionPolicy="Snapshot"))
        uids = {n: ready(bed, n)["metadata"]["uid"] for n in (snap, delete, retain, guarded)}
        aws = Aws(bed)
        aws.rds.modify_db_cluster(
            DBClusterIdentifier=cluster_id(delete), DeletionProtection=True, ApplyImmediately=True
        )
        for n in (snap, delete, retain, guarded):
            bed.delete("upskilldatabases", n)
        for n in (snap, delete, retain):
            wait_for(lambda n=n: get(bed, n) is None, 60, f"{n} finalized")
        blocked = wait_for(
            lambda: condition(get(bed, guarded), "Terminal").get("reason") == "DeletionProtected" and get(bed, guarded),
            20,
            "deletion blocked",
        )
        assert blocked["status"]["phase"] == "Deleting"

        (final,) = aws.snapshots(snap)
        assert final["DBClusterSnapshotIdentifier"] == f"{cluster_id(snap)}-final-{uids[snap][:8]}"
        assert tags(final["TagList"])["upskill.io/owner"] == f"{NAMESPACE}/{snap}"  # CopyTagsToSnapshot
        assert aws.clusters(snap) == aws.instances(snap) == aws.proxies(snap) == aws.subnet_groups(snap) == []
        assert aws.security_groups(snap) == aws.roles(snap) == []

        assert aws.clusters(delete) == aws.snapshots(delete) == []  # protection was turned off first, no snapshot
        assert aws.proxies(delete) == aws.roles(delete) == aws.subnet_groups(delete) == []

        kept = aws.clusters(retain)
        assert len(kept) == 1
        assert tags(kept[0]["TagList"])["upskill.io/owner"] == f"{NAMESPACE}/{retain}"
        assert len(aws.instances(retain)) == len(aws.proxies(retain)) == len(aws.roles(retain)) == 1
        assert len(aws.clusters(guarded)) == 1
        assert aws.snapshots(guarded) == []


def test_foreign_cluster_is_left_untouched(bed: Bed) -> None:
    name = unique("foreign")
    aws = Aws(bed)
    subnets = [
        s["SubnetId"]
        for s in aws.ec2.describe_subnets(Filters=[{"Name": "tag:tier", "Values": ["private"]}])["Subnets"]
    ]
    aws.rds.create_db_subnet_group(DBSubnetGroupName=f"theirs-{name}", DBSubnetGroupDescription="d", SubnetIds=subnets)
    aws.rds.create_db_cluster(
        DBClusterIdentifier=cluster_id(name),
        Engine="aurora-postgresql",
        MasterUsername="them",
        ManageMasterUserPassword=True,
        DBSubnetGroupName=f"theirs-{name}",
        DeletionProtection=False,
        Tags=[{"Key": "upskill.io/owner", "Value": "someone/else"}],
    )
    before = aws.cluster(name)
    with database_operator(bed):
        bed.calls.clear()
        bed.apply(db_doc("auth", name))
        obj = terminal(bed, name)
        assert condition(obj, "Terminal")["reason"] == "ForeignOwner"
        assert "someone/else" in condition(obj, "Terminal")["message"]
        # Refused before the first object of the database is created: the subnet group step checks the cluster.
        assert obj["status"]["message"].startswith("subnet group: spec.clusterIdentifier: ")
        assert "masterUserSecretArn" not in obj["status"]
        bed.delete("upskilldatabases", name)
        wait_for(lambda: get(bed, name) is None, 30, "finalized")
    touched = [c for c in db_writes(bed) if "Cluster" in c[1] or "Instance" in c[1]]
    assert touched == []
    assert db_writes(bed) == []  # nothing at all: not even a subnet group of our own
    after = aws.cluster(name)
    assert (after["Status"], after["TagList"], after["MasterUsername"]) == ("available", before["TagList"], "them")
    assert aws.subnet_groups(name) == []
