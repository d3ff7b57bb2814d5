"""Data safety: deleting a resource, a namespace or a CRD never loses AWS data unless the spec says Delete.

The defaults are what a user gets without thinking: a database takes a final snapshot, and AWS keeps
its cluster until that snapshot is available; a table is retained with point-in-time recovery still
on; a secret is only scheduled for deletion, restorable for its recovery window. Deletion protection
blocks a Delete policy (Terminal, finalizer kept, AWS untouched) until a spec change, as Git makes
it, turns it off. Every expectation is read from the emulators with separate clients.
"""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError
from kubernetes.client.exceptions import ApiException

from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import NAMESPACE, Bed, wait_for
from e2e.db_support import database_operator, unique
from e2e.safety_support import (
    DATABASES,
    SECRETS,
    TABLES,
    Cloud,
    Objects,
    aws_name,
    blocked_passes,
    database_doc,
    own_api_server,
    secret_doc,
    table_doc,
)

pytestmark = pytest.mark.e2e

DAY = 86_400


def rds_calls(bed: Bed, operation: str) -> int:
    return sum(1 for c in list(bed.calls.calls) if c == ("rds", operation))


def final_snapshot_events(bed: Bed, name: str) -> list[str]:
    events = bed.kube.list("v1", "events", NAMESPACE)
    return [
        e["message"] for e in events if e["involvedObject"].get("name") == name and e["reason"] == "FinalSnapshotTaken"
    ]


def test_database_keeps_its_cluster_until_the_final_snapshot_is_available(bed: Bed, objects: Objects) -> None:
    name, cloud = unique("snap"), Cloud(bed)
    with database_operator(bed, pending=0):
        bed.apply(database_doc(NAMESPACE, name, deletionProtection=False))
        obj = objects.ready(DATABASES, NAMESPACE, name)
        assert obj["spec"]["deletionPolicy"] == "Snapshot"  # the default, as the API server stored it
        final = f"{aws_name(NAMESPACE, name)}-final-{obj['metadata']['uid'][:8]}"
        bed.aws.rds.final_snapshot_describes = 1_000_000  # AWS takes minutes: hold the snapshot in `creating`
        try:
            bed.calls.clear()
            objects.delete(DATABASES, NAMESPACE, name)
            taking = wait_for(lambda: cloud.snapshots(NAMESPACE, name), 30, "the final snapshot started")
            assert [(s["DBClusterSnapshotIdentifier"], s["Status"]) for s in taking] == [(final, "creating")]
            looked = rds_calls(bed, "DescribeDBClusters")
            wait_for(lambda: rds_calls(bed, "DescribeDBClusters") >= looked + 3, 30, "three more passes")

            cluster = cloud.cluster(NAMESPACE, name)  # the data is still there, in a cluster being deleted
            assert cluster is not None
            assert cluster["Status"] == "deleting"
            waiting = objects.get(DATABASES, NAMESPACE, name)
            assert waiting is not None
            assert waiting["metadata"]["finalizers"] == ["upskill.io/finalizer"]
            assert waiting["status"]["phase"] == "Deleting"
            assert "cluster is deleting" in waiting["status"]["message"]
            assert rds_calls(bed, "DeleteDBCluster") == 1
        finally:
            bed.aws.rds.final_snapshot_describes = 0  # the snapshot completes at the next describe
        objects.gone(DATABASES, NAMESPACE, name)
        taken = wait_for(lambda: final_snapshot_events(bed, name), 20, "the FinalSnapshotTaken Event")
        assert taken == [f"cluster {aws_name(NAMESPACE, name)} is gone; its data is kept in {final}"]

    (snapshot,) = cloud.snapshots(NAMESPACE, name)
    assert (snapshot["DBClusterSnapshotIdentifier"], snapshot["Status"]) == (final, "available")
    tags = {t["Key"]: t["Value"] for t in snapshot["TagList"]}
    assert tags["upskill.io/owner"] == f"{NAMESPACE}/{name}"  # CopyTagsToSnapshot: it says whose data it is
    assert cloud.cluster(NAMESPACE, name) is None


def test_table_is_retained_with_point_in_time_recovery_on(bed: Bed, operator: OperatorThread, objects: Objects) -> None:
    name, cloud = unique("keep"), Cloud(bed)
    bed.apply(table_doc(NAMESPACE, name))
    obj = objects.ready(TABLES, NAMESPACE, name)
    assert (obj["spec"]["deletionPolicy"], obj["spec"]["deletionProtection"]) == ("Retain", True)
    arn = obj["status"]["arn"]
    bed.calls.clear()
    objects.delete(TABLES, NAMESPACE, name)
    objects.gone(TABLES, NAMESPACE, name)

    assert [c for c in bed.calls.mutating() if c[0] == "dynamodb"] == []
    table = cloud.table(NAMESPACE, name)
    assert table is not None
    assert (table["TableStatus"], table["DeletionProtectionEnabled"]) == ("ACTIVE", True)
    pitr = cloud.pitr(NAMESPACE, name)
    assert (pitr["PointInTimeRecoveryStatus"], pitr["RecoveryPeriodInDays"]) == ("ENABLED", 35)

    bed.apply(table_doc(NAMESPACE, name))  # the same resource again finds the retained table
    assert objects.ready(TABLES, NAMESPACE, name)["status"]["arn"] == arn
    objects.delete(TABLES, NAMESPACE, name)


def test_secret_stays_recoverable_for_its_recovery_window(bed: Bed, operator: OperatorThread, objects: Objects) -> None:
    name, cloud = unique("sess"), Cloud(bed)
    bed.apply(secret_doc(NAMESPACE, name))
    obj = objects.ready(SECRETS, NAMESPACE, name)
    assert (obj["spec"]["deletionPolicy"], obj["spec"]["recoveryWindowDays"]) == ("Delete", 7)
    secret_id = obj["status"]["secretName"]
    value = cloud.sm.get_secret_value(SecretId=secret_id)["SecretString"]
    objects.delete(SECRETS, NAMESPACE, name)
    objects.gone(SECRETS, NAMESPACE, name)

    scheduled = cloud.secret(NAMESPACE, name)["DeletedDate"].timestamp()
    assert 6.9 * DAY < scheduled - time.time() <= 7 * DAY  # deleted for good only after the 7-day window
    with pytest.raises(ClientError, match="marked deleted"):  # unreadable meanwhile
        cloud.sm.get_secret_value(SecretId=secret_id)
    cloud.sm.restore_secret(SecretId=secret_id)
    assert cloud.sm.get_secret_value(SecretId=secret_id)["SecretString"] == value
    cloud.sm.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)


def test_protected_table_is_kept_until_git_turns_protection_off(
    bed: Bed, operator: OperatorThread, objects: Objects
) -> None:
    name, cloud = unique("guard"), Cloud(bed)
    bed.apply(table_doc(NAMESPACE, name, deletionProtection=True, deletionPolicy="Delete"))
    objects.ready(TABLES, NAMESPACE, name)
    refused = blocked_passes("UpskillTable")
    bed.calls.clear()
    objects.delete(TABLES, NAMESPACE, name)

    obj = objects.blocked(TABLES, NAMESPACE, name)
    assert "spec.deletionProtection is true: set it to false" in obj["status"]["message"]
    assert (obj["status"]["phase"], obj["metadata"]["finalizers"]) == ("Deleting", ["upskill.io/finalizer"])
    wait_for(lambda: blocked_passes("UpskillTable") >= refused + 2, 30, "deletion refused again on retry")
    assert [c for c in bed.calls.mutating() if c[0] == "dynamodb"] == []
    table = cloud.table(NAMESPACE, name)
    assert table is not None
    assert table["DeletionProtectionEnabled"] is True

    objects.patch_spec(TABLES, NAMESPACE, name, {"deletionProtection": False})  # the commit that unprotects it
    objects.gone(TABLES, NAMESPACE, name)
    assert cloud.table(NAMESPACE, name) is None
    writes = [c[1] for c in bed.calls.mutating() if c[0] == "dynamodb"]
    assert writes == ["UpdateTable", "DeleteTable"]  # AWS protection off first, then the delete


def test_protected_database_is_kept_until_git_turns_protection_off(bed: Bed, objects: Objects) -> None:
    name, cloud = unique("guard"), Cloud(bed)
    with database_operator(bed, pending=0):
        bed.apply(database_doc(NAMESPACE, name, deletionProtection=True, deletionPolicy="Delete"))
        objects.ready(DATABASES, NAMESPACE, name)
        refused = blocked_passes("UpskillDatabase")
        bed.calls.clear()
        objects.delete(DATABASES, NAMESPACE, name)

        obj = objects.blocked(DATABASES, NAMESPACE, name)
        assert "set it to false to let deletionPolicy Delete proceed" in obj["status"]["message"]
        assert obj["metadata"]["finalizers"] == ["upskill.io/finalizer"]
        wait_for(lambda: blocked_passes("UpskillDatabase") >= refused + 2, 30, "deletion refused again on retry")
        assert [c for c in bed.calls.mutating() if c[0] in ("rds", "ec2", "iam")] == []
        cluster = cloud.cluster(NAMESPACE, name)
        assert cluster is not None
        assert (cluster["Status"], cluster["DeletionProtection"]) == ("available", True)

        objects.patch_spec(DATABASES, NAMESPACE, name, {"deletionProtection": False})
        objects.gone(DATABASES, NAMESPACE, name)
    assert cloud.cluster(NAMESPACE, name) is None
    assert cloud.snapshots(NAMESPACE, name) == []  # Delete means no snapshot
    writes = [c[1] for c in bed.calls.mutating() if c[0] == "rds"]
    assert writes.index("ModifyDBCluster") < writes.index("DeleteDBCluster")  # AWS protection off first


def test_deleting_a_namespace_keeps_aws_data_unless_the_policy_is_delete(bed: Bed) -> None:
    ns, cloud = unique("doomed"), Cloud(bed)
    with own_api_server(bed, ns) as (own, k8s):
        own.kube.apply_manifest(table_doc(ns, "keep"))
        own.kube.apply_manifest(table_doc(ns, "drop", deletionProtection=False, deletionPolicy="Delete"))
        own.kube.apply_manifest(database_doc(ns, "snap", deletionProtection=False))
        own.kube.apply_manifest(database_doc(ns, "guarded"))  # every default: protected, Snapshot
        own.kube.apply_manifest(secret_doc(ns, "gen"))
        own.kube.apply_manifest(secret_doc(ns, "kept", deletionPolicy="Retain"))
        objects = [(TABLES, "keep"), (TABLES, "drop"), (DATABASES, "snap"), (DATABASES, "guarded")]
        objects += [(SECRETS, "gen"), (SECRETS, "kept")]
        uids = {name: k8s.ready(plural, ns, name)["metadata"]["uid"] for plural, name in objects}

        k8s.core.delete_namespace(ns)  # kubectl delete namespace
        for plural, name in objects:
            if name != "guarded":
                k8s.gone(plural, ns, name)
        k8s.blocked(DATABASES, ns, "guarded")
        assert ((k8s.namespace(ns) or {}).get("status") or {}).get("phase") == "Terminating"  # held by a finalizer

        table = cloud.table(ns, "keep")
        assert table is not None
        assert cloud.pitr(ns, "keep")["PointInTimeRecoveryStatus"] == "ENABLED"
        assert cloud.table(ns, "drop") is None
        assert cloud.cluster(ns, "snap") is None
        assert [s["DBClusterSnapshotIdentifier"] for s in cloud.snapshots(ns, "snap")] == [
            f"{aws_name(ns, 'snap')}-final-{uids['snap'][:8]}"
        ]
        guarded = cloud.cluster(ns, "guarded")
        assert guarded is not None
        assert (guarded["Status"], guarded["DeletionProtection"]) == ("available", True)
        assert cloud.snapshots(ns, "guarded") == []
        assert cloud.secret(ns, "gen")["DeletedDate"]  # scheduled, recoverable
        assert "DeletedDate" not in cloud.secret(ns, "kept")

        k8s.patch_spec(DATABASES, ns, "guarded", {"deletionProtection": False})  # allowed while terminating
        wait_for(lambda: k8s.namespace(ns) is None, 60, "the namespace gone once its last object is")
    assert cloud.cluster(ns, "guarded") is None
    assert [s["Status"] for s in cloud.snapshots(ns, "guarded")] == ["available"]


def test_deleting_the_crds_keeps_aws_data_unless_the_policy_is_delete(bed: Bed) -> None:
    ns, cloud = unique("nocrd"), Cloud(bed)
    with own_api_server(bed, ns) as (own, k8s):
        own.kube.apply_manifest(table_doc(ns, "keep"))
        own.kube.apply_manifest(table_doc(ns, "drop", deletionProtection=False, deletionPolicy="Delete"))
        own.kube.apply_manifest(table_doc(ns, "guarded", deletionPolicy="Delete"))  # protected by default
        own.kube.apply_manifest(database_doc(ns, "snap", deletionProtection=False))
        own.kube.apply_manifest(database_doc(ns, "drop", deletionProtection=False, deletionPolicy="Delete"))
        own.kube.apply_manifest(secret_doc(ns, "gen"))
        objects = [(TABLES, "keep"), (TABLES, "drop"), (TABLES, "guarded"), (DATABASES, "snap")]
        objects += [(DATABASES, "drop"), (SECRETS, "gen")]
        uids = {(plural, name): k8s.ready(plural, ns, name)["metadata"]["uid"] for plural, name in objects}

        for plural in (TABLES, DATABASES, SECRETS):  # kubectl delete crd ...
            k8s.extensions.delete_custom_resource_definition(f"{plural}.upskill.io")
        wait_for(lambda: k8s.crd(DATABASES) is None and k8s.crd(SECRETS) is None, 60, "CRDs of finalized kinds gone")
        k8s.blocked(TABLES, ns, "guarded")
        terminating = k8s.crd(TABLES)  # the API server keeps a CRD until its last object is finalized
        assert terminating is not None
        assert terminating["metadata"]["deletionTimestamp"]
        with pytest.raises(ApiException) as refused:
            k8s.custom.create_namespaced_custom_object(
                "upskill.io", "v1alpha1", ns, TABLES, table_doc(ns, "late", deletionProtection=False)
            )
        assert refused.value.status == 405

        assert cloud.table(ns, "keep") is not None
        assert cloud.pitr(ns, "keep")["PointInTimeRecoveryStatus"] == "ENABLED"
        assert cloud.table(ns, "drop") is None
        guarded = cloud.table(ns, "guarded")
        assert guarded is not None
        assert guarded["DeletionProtectionEnabled"] is True
        assert cloud.cluster(ns, "snap") is None
        assert [s["DBClusterSnapshotIdentifier"] for s in cloud.snapshots(ns, "snap")] == [
            f"{aws_name(ns, 'snap')}-final-{uids[(DATABASES, 'snap')][:8]}"
        ]
        assert cloud.cluster(ns, "drop") is None
        assert cloud.snapshots(ns, "drop") == []
        assert cloud.secret(ns, "gen")["DeletedDate"]

        k8s.patch_spec(TABLES, ns, "guarded", {"deletionProtection": False})
        wait_for(lambda: k8s.crd(TABLES) is None, 60, "the last CRD gone with its last object")
    assert cloud.table(ns, "guarded") is None
    assert cloud.table(ns, "keep") is not None
