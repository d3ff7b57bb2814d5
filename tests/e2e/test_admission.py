"""The validating webhook, driven over HTTP with AdmissionReview requests as an API server sends them."""

from __future__ import annotations

import json
import socket
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest

from upskill_operator.kube.client import load_configuration
from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import Bed, wait_for

pytestmark = pytest.mark.e2e

KEYS = {"partition": {"name": "pk", "type": "S"}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def webhook(bed: Bed) -> Iterator[str]:
    port = _free_port()
    settings = bed.settings.model_copy(update={"webhook_port": port, "webhook_insecure": True})
    with OperatorThread(settings, bed.hooks):
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _listening(port), 10, "webhook server")
        yield url


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def review(
    url: str,
    plural: str,
    kind: str,
    operation: str,
    spec: Any,
    old_spec: Any = None,
    old_status: Any = None,
    namespace: str = "e2e",
) -> dict[str, Any]:
    """POST one AdmissionReview and return its response part."""

    def obj(s: Any, status: Any = None) -> dict[str, Any] | None:
        if s is None:
            return None
        found = {
            "apiVersion": "upskill.io/v1alpha1",
            "kind": kind,
            "metadata": {"name": "x", "namespace": namespace, "uid": "u"},
            "spec": s,
        }
        return {**found, "status": status} if status is not None else found

    gvk = {"group": "upskill.io", "version": "v1alpha1", "kind": kind}
    gvr = {"group": "upskill.io", "version": "v1alpha1", "resource": plural}
    body = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": gvk,
            "resource": gvr,
            "requestKind": gvk,
            "requestResource": gvr,
            "name": "x",
            "namespace": namespace,
            "operation": operation,
            "userInfo": {"username": "alice"},
            "object": obj(spec),
            "oldObject": obj(old_spec, old_status),
            "dryRun": False,
            "options": {},
        },
    }
    request = urllib.request.Request(
        f"{url}/validate-{plural}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    assert answer["response"]["uid"] == body["request"]["uid"]
    return dict(answer["response"])


def test_valid_table_is_allowed(webhook: str) -> None:
    assert review(webhook, "upskilltables", "UpskillTable", "CREATE", {"keys": KEYS})["allowed"] is True


def test_semantic_error_is_refused_with_field_and_rule(webhook: str) -> None:
    spec = {"keys": KEYS, "globalIndexes": [{"name": "byPk", "partition": {"name": "pk", "type": "N"}}]}
    answer = review(webhook, "upskilltables", "UpskillTable", "CREATE", spec)
    assert answer["allowed"] is False
    assert answer["status"]["code"] == 422
    assert answer["status"]["message"] == (
        "spec.globalIndexes[0].partition.type: attribute 'pk' is type S in keys.partition; "
        "an attribute has one type (got N)"
    )


def test_immutable_change_is_refused_on_update(webhook: str) -> None:
    answer = review(
        webhook,
        "upskilltables",
        "UpskillTable",
        "UPDATE",
        {"keys": {"partition": {"name": "id", "type": "S"}}},
        {"keys": KEYS},
    )
    assert answer["allowed"] is False
    assert "spec.keys: immutable after creation" in answer["status"]["message"]


def test_an_update_that_leaves_an_invalid_spec_alone_is_allowed(webhook: str) -> None:
    """Removing the finalizer of an object stored before the webhook existed must not be refused."""
    spec = {"keys": KEYS, "globalIndexes": [{"name": "byPk", "partition": {"name": "pk", "type": "N"}}]}
    assert review(webhook, "upskilltables", "UpskillTable", "UPDATE", spec, spec)["allowed"] is True
    changed = {**spec, "ttlAttribute": "expiresAt"}
    assert review(webhook, "upskilltables", "UpskillTable", "UPDATE", changed, spec)["allowed"] is False


def test_database_capacity_rule_names_the_field(webhook: str, bed: Bed) -> None:
    if "upskilldatabases" not in {k for k in _served(bed)}:
        pytest.skip("UpskillDatabase is not served by this build yet")
    spec = {
        "engineVersion": "16.4",
        "databaseName": "auth",
        "capacity": {"serverless": {"minACU": 0.75, "maxACU": 4}},
        "network": {"subnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]},
    }
    answer = review(webhook, "upskilldatabases", "UpskillDatabase", "CREATE", spec)
    assert answer["allowed"] is False
    assert "spec.capacity.serverless.minACU: must be a multiple of 0.5 (got 0.75)" in answer["status"]["message"]


def _served(bed: Bed) -> list[str]:
    from upskill_operator.handlers import IMPLEMENTED

    return [k.plural for k in IMPLEMENTED]


def test_a_version_aws_retired_is_kept_for_a_cluster_that_runs_it(webhook: str) -> None:
    """16.0 is no longer offered: refused for a new cluster, kept for one whose status shows it running."""
    spec = {
        "engineVersion": "16.0",
        "databaseName": "auth",
        "capacity": {"provisioned": {"instanceClass": "db.r6g.large"}},
        "network": {"subnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]},
    }
    created = review(webhook, "upskilldatabases", "UpskillDatabase", "CREATE", spec)
    assert created["allowed"] is False
    assert "spec.engineVersion: Aurora PostgreSQL does not offer 16.0" in created["status"]["message"]
    changed = {**spec, "deletionProtection": False}
    running = {"engineVersion": "16.0"}
    args = ("upskilldatabases", "UpskillDatabase", "UPDATE", changed, spec)
    assert review(webhook, *args, old_status=running)["allowed"] is True
    assert review(webhook, *args)["allowed"] is False


def test_a_secret_whose_auth_cannot_log_in_to_its_database_is_refused(webhook: str, bed: Bed) -> None:
    """The webhook reads the UpskillDatabase a database source names and refuses what its proxy would."""
    namespace = "adm-auth"
    bed.kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    db = {
        "apiVersion": "upskill.io/v1alpha1",
        "kind": "UpskillDatabase",
        "metadata": {"name": "authdb", "namespace": namespace},
        "spec": {
            "engineVersion": "16.4",
            "databaseName": "auth",
            "capacity": {"serverless": {"minACU": 0, "maxACU": 4}},
            "network": {"subnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]},
            "proxy": {"iamAuth": "Required"},
        },
    }
    bed.kube.apply_manifest(db)
    try:

        def secret(**database: Any) -> dict[str, Any]:
            return {
                "source": {"database": {"ref": "authdb", "endpoint": "proxy", **database}},
                "target": {"secretName": "env", "key": "AUTH_DB_URL"},
            }

        refused = review(
            webhook, "upskillsecrets", "UpskillSecret", "CREATE", secret(auth="Password"), namespace=namespace
        )
        assert refused["allowed"] is False
        message = refused["status"]["message"]
        assert "spec.source.database.auth: Password" in message
        assert "spec.proxy.iamAuth: Required" in message
        for fine in (secret(auth="IAM"), secret(), secret(user="app_user", auth="Password")):
            answer = review(webhook, "upskillsecrets", "UpskillSecret", "CREATE", fine, namespace=namespace)
            assert answer["allowed"] is True, answer
        missing = {**secret(auth="Password"), "source": {"database": {"ref": "not-yet", "auth": "Password"}}}
        assert review(webhook, "upskillsecrets", "UpskillSecret", "CREATE", missing, namespace=namespace)["allowed"]
    finally:
        api = kubernetes.client.ApiClient(load_configuration(bed.settings.kubeconfig))
        with api:
            kubernetes.client.CustomObjectsApi(api).delete_namespaced_custom_object(
                "upskill.io", "v1alpha1", namespace, "upskilldatabases", "authdb"
            )
