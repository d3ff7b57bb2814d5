"""Helpers for the data-safety tests: the three kinds under their default deletion policies, in any
namespace; AWS look-ups with plain boto3; and an operator on an API server of its own.

Deleting a namespace or a CRD would take every other test's objects with it on the session's shared
API server, so those tests get a fresh :class:`KubeServer` (cheap: milliseconds) sharing the bed's
moto server and call log, with the real operator pointed at it.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import kubernetes
from prometheus_client import REGISTRY

from upskill_operator.generate import crds
from upskill_operator.kube.client import load_configuration
from upskill_operator.models.common import API_GROUP, API_VERSION
from upskill_sandbox.kube import KubeServer

from e2e.conftest import API, Bed, condition, is_ready, wait_for
from e2e.db_support import example

TABLES, DATABASES, SECRETS = "upskilltables", "upskilldatabases", "upskillsecrets"
CRD_API = "apiextensions.k8s.io/v1"
GENERATE = {"generate": {"length": 32, "excludePunctuation": True}}


def table_doc(namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    """A small table; deletionPolicy and deletionProtection stay at their defaults unless given."""
    body = {"keys": {"partition": {"name": "pk", "type": "S"}}, "ttlAttribute": "expiresAt", **spec}
    return {"apiVersion": API, "kind": "UpskillTable", "metadata": {"name": name, "namespace": namespace}, "spec": body}


def database_doc(namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    """The shipped auth-db example without migrations and probes, and with the default deletion settings."""
    body = copy.deepcopy(example("auth")["spec"])
    for key in ("migrations", "probe", "deletionPolicy", "deletionProtection"):
        body.pop(key, None)
    body.update(spec)
    return {
        "apiVersion": API,
        "kind": "UpskillDatabase",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


def secret_doc(namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    """A generated secret synced to a Kubernetes Secret; deletion settings default unless given."""
    body = {"source": GENERATE, "target": {"secretName": f"{name}-env", "key": "VALUE"}, **spec}
    return {
        "apiVersion": API,
        "kind": "UpskillSecret",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


def aws_name(namespace: str, name: str) -> str:
    """The table name and cluster identifier the operator derives (``upskill-<namespace>-<name>``)."""
    return f"upskill-{namespace}-{name}"


def blocked_passes(kind: str) -> float:
    """Finalize passes of ``kind`` refused by deletion protection, from the operator's own counter."""
    return REGISTRY.get_sample_value("upskill_reconcile_total", {"kind": kind, "result": "blocked"}) or 0.0


class Cloud:
    """What AWS holds, read with plain boto3 clients (never through the operator's code)."""

    def __init__(self, bed: Bed) -> None:
        self.ddb, self.rds, self.sm = bed.boto("dynamodb"), bed.boto("rds"), bed.boto("secretsmanager")

    def table(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.ddb.describe_table(TableName=aws_name(namespace, name))["Table"]
        except self.ddb.exceptions.ResourceNotFoundException:
            return None
        return found

    def pitr(self, namespace: str, name: str) -> dict[str, Any]:
        backups = self.ddb.describe_continuous_backups(TableName=aws_name(namespace, name))
        found: dict[str, Any] = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        return found

    def cluster(self, namespace: str, name: str) -> dict[str, Any] | None:
        wanted = aws_name(namespace, name)
        return next(
            (c for c in self.rds.describe_db_clusters()["DBClusters"] if c["DBClusterIdentifier"] == wanted), None
        )

    def snapshots(self, namespace: str, name: str) -> list[dict[str, Any]]:
        found = self.rds.describe_db_cluster_snapshots(
            DBClusterIdentifier=aws_name(namespace, name), SnapshotType="manual"
        )
        return list(found["DBClusterSnapshots"])

    def secret(self, namespace: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.sm.describe_secret(SecretId=f"upskill/{namespace}/{name}")
        return found


class Objects:
    """Custom objects on one API server, through the official client (as kubectl and Argo CD reach it)."""

    def __init__(self, kube: KubeServer, kubeconfig: str) -> None:
        self.kube = kube
        self.api = kubernetes.client.ApiClient(load_configuration(kubeconfig))
        self.custom = kubernetes.client.CustomObjectsApi(self.api)
        self.core = kubernetes.client.CoreV1Api(self.api)
        self.extensions = kubernetes.client.ApiextensionsV1Api(self.api)

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.kube.get(API, plural, namespace, name)

    def ready(self, plural: str, namespace: str, name: str, timeout: float = 60) -> dict[str, Any]:
        return wait_for(
            lambda: (o := self.get(plural, namespace, name)) and is_ready(o) and o, timeout, f"{plural}/{name} Ready"
        )

    def gone(self, plural: str, namespace: str, name: str, timeout: float = 60) -> None:
        wait_for(lambda: self.get(plural, namespace, name) is None, timeout, f"{plural}/{name} finalized")

    def blocked(self, plural: str, namespace: str, name: str, timeout: float = 30) -> dict[str, Any]:
        """Wait for Terminal=True with reason DeletionProtected; returns the object."""
        return wait_for(
            lambda: (
                (o := self.get(plural, namespace, name))
                and condition(o, "Terminal").get("reason") == "DeletionProtected"
                and o
            ),
            timeout,
            f"{plural}/{name} deletion blocked",
        )

    def delete(self, plural: str, namespace: str, name: str) -> None:
        self.custom.delete_namespaced_custom_object(API_GROUP, API_VERSION, namespace, plural, name)

    def patch_spec(self, plural: str, namespace: str, name: str, spec: dict[str, Any]) -> None:
        """A spec change as a Git sync makes it: a merge patch (create is not allowed in a terminating namespace)."""
        self.custom.patch_namespaced_custom_object(API_GROUP, API_VERSION, namespace, plural, name, {"spec": spec})

    def crd(self, plural: str) -> dict[str, Any] | None:
        return self.kube.get(CRD_API, "customresourcedefinitions", None, f"{plural}.{API_GROUP}")

    def namespace(self, name: str) -> dict[str, Any] | None:
        return self.kube.get("v1", "namespaces", None, name)


@contextmanager
def own_api_server(bed: Bed, namespace: str) -> Iterator[tuple[Bed, Objects]]:
    """A fresh API server with our CRDs and ``namespace``, and the operator running against it."""
    with KubeServer() as kube, tempfile.TemporaryDirectory() as tmp:
        for text in crds.render_all().values():
            kube.apply_yaml(text)
        kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        kubeconfig = str(kube.write_kubeconfig(Path(tmp) / "kubeconfig"))
        aws = bed.settings.aws.model_copy(update={"calls_per_second": {}})  # rates are bench/'s business
        own = Bed(
            bed.aws, kube, bed.settings.model_copy(update={"kubeconfig": kubeconfig, "aws": aws}), bed.calls, bed.hooks
        )
        objects = Objects(kube, kubeconfig)
        own.start_operator()
        try:
            yield own, objects
        finally:
            own.stop_operator()
            objects.api.close()
