"""Helpers for the UpskillDatabase end-to-end tests: the example manifests as documents, AWS lookups.

The documents start from ``manifests/examples/upskill-stack/{auth,course}-db.yaml`` (so the
shipped examples are what is tested), without ``migrations`` and ``probe`` (the e2e bed has no
PostgreSQL) and, unless a test says otherwise, without deletion protection and with the Delete
policy so the bed can clean up.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from upskill_operator.generate import kubectl_yaml
from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import API, NAMESPACE, Bed, condition, is_ready, wait_for
from e2e.planes import PLANES

EXAMPLES = Path(__file__).parents[2] / "manifests/examples/upskill-stack"
PLURAL = "upskilldatabases"
DB_SERVICES = ("rds", "ec2", "iam")
PENDING_DESCRIBES = 2


def example(which: str) -> dict[str, Any]:
    doc: dict[str, Any] = kubectl_yaml.load((EXAMPLES / f"{which}-db.yaml").read_text())
    return doc


def db_doc(which: str, name: str, **spec: Any) -> dict[str, Any]:
    """The ``auth`` or ``course`` example renamed, with ``spec`` keys replaced."""
    doc = copy.deepcopy(example(which))
    body = doc["spec"]
    for key in ("migrations", "probe", "monitoring"):  # each test asks for these itself
        body.pop(key, None)
    body.update(deletionProtection=False, deletionPolicy="Delete")
    body.update(spec)
    return {"apiVersion": doc["apiVersion"], "kind": doc["kind"], "metadata": {"name": name}, "spec": body}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def cluster_id(name: str) -> str:
    return f"upskill-{NAMESPACE}-{name}"


def get(bed: Bed, name: str) -> dict[str, Any] | None:
    return bed.get(PLURAL, name)


def ready(bed: Bed, name: str, timeout: float = 60) -> dict[str, Any]:
    return wait_for(lambda: (obj := get(bed, name)) and is_ready(obj) and obj, timeout, f"{name} Ready")


def terminal(bed: Bed, name: str, timeout: float = 30) -> dict[str, Any]:
    return wait_for(
        lambda: (o := get(bed, name)) and condition(o, "Terminal").get("status") == "True" and o, timeout, "Terminal"
    )


def db_writes(bed: Bed) -> list[tuple[str, str]]:
    """Mutating RDS, EC2 and IAM calls the operator made since the last ``bed.calls.clear()``."""
    return [c for c in bed.calls.mutating() if c[0] in DB_SERVICES]


def tags(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or ()}


def _every(client: Any, operation: str, key: str) -> list[dict[str, Any]]:
    """Every page of a listing: the shared emulator holds more than one page by the end of the suite."""
    return [item for page in client.get_paginator(operation).paginate() for item in page[key]]


class Aws:
    """Reads (and out-of-band writes) with plain boto3 clients."""

    def __init__(self, bed: Bed) -> None:
        self.rds, self.ec2, self.iam = bed.boto("rds"), bed.boto("ec2"), bed.boto("iam")

    def cluster(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.rds.describe_db_clusters(DBClusterIdentifier=cluster_id(name))["DBClusters"][0]
        return found

    def clusters(self, name: str) -> list[dict[str, Any]]:
        return [
            c
            for c in _every(self.rds, "describe_db_clusters", "DBClusters")
            if c["DBClusterIdentifier"] == cluster_id(name)
        ]

    def instances(self, name: str) -> list[dict[str, Any]]:
        filters = [{"Name": "db-cluster-id", "Values": [cluster_id(name)]}]
        return sorted(
            self.rds.describe_db_instances(Filters=filters)["DBInstances"], key=lambda i: i["DBInstanceIdentifier"]
        )

    def subnet_groups(self, name: str) -> list[dict[str, Any]]:
        groups = self.rds.describe_db_subnet_groups()["DBSubnetGroups"]
        return [g for g in groups if g["DBSubnetGroupName"] == cluster_id(name)]

    def security_groups(self, name: str) -> list[dict[str, Any]]:
        filters = [{"Name": "group-name", "Values": [f"{cluster_id(name)}-db"]}]
        found: list[dict[str, Any]] = self.ec2.describe_security_groups(Filters=filters)["SecurityGroups"]
        return found

    def roles(self, name: str) -> list[dict[str, Any]]:
        return [r for r in _every(self.iam, "list_roles", "Roles") if r["RoleName"] == f"{cluster_id(name)}-proxy"]

    def proxies(self, name: str) -> list[dict[str, Any]]:
        return [p for p in _every(self.rds, "describe_db_proxies", "DBProxies") if p["DBProxyName"] == cluster_id(name)]

    def proxy(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.rds.describe_db_proxies(DBProxyName=cluster_id(name))["DBProxies"][0]
        return found

    def targets(self, name: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.rds.describe_db_proxy_targets(DBProxyName=cluster_id(name))["Targets"]
        return found

    def pool(self, name: str) -> dict[str, Any]:
        groups = self.rds.describe_db_proxy_target_groups(DBProxyName=cluster_id(name))["TargetGroups"]
        found: dict[str, Any] = groups[0]["ConnectionPoolConfig"]
        return found

    def endpoints(self, name: str) -> list[dict[str, Any]]:
        found = self.rds.describe_db_proxy_endpoints(DBProxyName=cluster_id(name))["DBProxyEndpoints"]
        return [e for e in found if not e["IsDefault"]]

    def snapshots(self, name: str) -> list[dict[str, Any]]:
        found = self.rds.describe_db_cluster_snapshots(DBClusterIdentifier=cluster_id(name), SnapshotType="manual")
        return list(found["DBClusterSnapshots"])


@contextmanager
def backed_operator(bed: Bed, pg_url: str, **update: Any) -> Iterator[OperatorThread]:
    """The operator with every emulated cluster backed by a database on ``pg_url``'s data plane, as in
    ``make sandbox``: its fronts serve each RDS endpoint and ``endpoint_map_file`` sends the AWS names there."""
    saved = bed.settings
    bed.settings = saved.model_copy(update={**PLANES[pg_url].settings_overrides(), **update})
    try:
        yield bed.start_operator()
    finally:
        bed.stop_operator()
        bed.settings = saved


@contextmanager
def database_operator(
    bed: Bed, pending: int = PENDING_DESCRIBES, resync: float | None = None, clean: bool = True
) -> Iterator[OperatorThread]:
    """The operator with the bed's short resync (or ``resync``) for databases, and RDS's transitional states on.

    With ``clean`` the operator deletes every database of the namespace before it stops, so later
    tests resync only their own.
    """
    saved, saved_pending = bed.settings, bed.aws.rds.pending_describes
    # No client-side rate limit: its 8 RDS calls/s would only make the test wait (bench/ measures rates).
    aws = saved.aws.model_copy(update={"calls_per_second": {}})
    update: dict[str, Any] = {"kind_resync_seconds": {"UpskillDatabase": resync} if resync else {}, "aws": aws}
    if resync:
        update["requeue_seconds"] = min(saved.requeue_seconds, resync / 5)
    bed.settings = saved.model_copy(update=update)
    bed.aws.rds.pending_describes = pending
    try:
        yield bed.start_operator()
        if clean:
            cleanup(bed)
    finally:
        bed.stop_operator()
        bed.settings, bed.aws.rds.pending_describes = saved, saved_pending


def cleanup(bed: Bed) -> None:
    """Delete every database of the namespace, unprotecting the protected ones first."""
    for obj in bed.kube.list(API, PLURAL, NAMESPACE):
        name = obj["metadata"]["name"]
        if (obj.get("spec") or {}).get("deletionProtection"):
            unprotect = {"apiVersion": API, "kind": "UpskillDatabase", "metadata": {"name": name}}
            bed.apply({**unprotect, "spec": {"deletionProtection": False}})
        if not obj["metadata"].get("deletionTimestamp"):
            bed.delete(PLURAL, name)
    wait_for(lambda: not bed.kube.list(API, PLURAL, NAMESPACE), 120, "databases deleted")
