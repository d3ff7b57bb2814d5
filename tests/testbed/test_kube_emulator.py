"""The emulated Kubernetes API behaves as a real API server does, over real HTTP."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import threading
from collections.abc import Iterator

import kubernetes
import pytest
from kubernetes.client import ApiException

from upskill_sandbox.kube import KubeServer

from testbed.kube_support import GROUP, PLURAL, api_client, http, table, table_crd, wait_until, watch_lines

CMS = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
def kube() -> Iterator[KubeServer]:
    with KubeServer() as server:
        yield server


@pytest.fixture
def kubeconfig(kube: KubeServer, tmp_path: pathlib.Path) -> str:
    return str(kube.write_kubeconfig(tmp_path / "kubeconfig"))


@pytest.fixture
def core(kubeconfig: str) -> Iterator[kubernetes.client.CoreV1Api]:
    with api_client(kubeconfig) as client:
        yield kubernetes.client.CoreV1Api(client)


def reason(exc: ApiException) -> str:
    return str(json.loads(exc.body)["reason"])


def test_discovery_serves_namespaces_and_builtins(kube: KubeServer, core: kubernetes.client.CoreV1Api) -> None:
    _, v1, _ = http(kube, "GET", "/api/v1")
    namespaces = next(r for r in v1["resources"] if r["name"] == "namespaces")
    assert namespaces["namespaced"] is False
    assert namespaces["kind"] == "Namespace"
    assert {"namespaces/status", "configmaps", "secrets", "events", "serviceaccounts"} <= {
        r["name"] for r in v1["resources"]
    }
    _, groups, _ = http(kube, "GET", "/apis")
    assert {"apps", "coordination.k8s.io", "apiextensions.k8s.io"} <= {g["name"] for g in groups["groups"]}
    assert [n.metadata.name for n in core.list_namespace().items] == [
        "default",
        "kube-node-lease",
        "kube-public",
        "kube-system",
    ]
    assert http(kube, "GET", "/apis/nope.example.com/v1")[0] == 404


def test_crud_with_the_official_client(kube: KubeServer, core: kubernetes.client.CoreV1Api) -> None:
    status, created, _ = http(kube, "POST", CMS, {"metadata": {"name": "one"}, "data": {"a": "1"}})
    assert status == 201
    meta = created["metadata"]
    assert meta["uid"]
    assert meta["creationTimestamp"].endswith("Z")
    assert int(meta["resourceVersion"]) > 0
    two = core.create_namespaced_config_map("default", {"metadata": {"name": "two"}, "data": {"b": "2"}})
    assert int(two.metadata.resource_version) == int(meta["resourceVersion"]) + 1  # one global counter

    patched = core.patch_namespaced_config_map("two", "default", {"data": {"c": "3"}})
    assert patched.data == {"b": "2", "c": "3"}
    patched.data = {"d": "4"}
    replaced = core.replace_namespaced_config_map("two", "default", patched)
    assert replaced.data == {"d": "4"}
    assert replaced.metadata.uid == two.metadata.uid

    with pytest.raises(ApiException) as exists:
        core.create_namespaced_config_map("default", {"metadata": {"name": "two"}})
    assert (exists.value.status, reason(exists.value)) == (409, "AlreadyExists")
    core.delete_namespaced_config_map("two", "default")
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("two", "default")
    assert (missing.value.status, reason(missing.value)) == (404, "NotFound")
    assert json.loads(missing.value.body)["message"] == 'configmaps "two" not found'
    assert kube.get("v1", "configmaps", "default", "one") is not None
    assert kube.requests.count("POST", r"/configmaps$") == 3


def test_errors_have_standard_reasons(kube: KubeServer) -> None:
    assert (
        http(kube, "POST", "/api/v1/namespaces/nowhere/configmaps", {"metadata": {"name": "x"}})[1]["reason"]
        == "NotFound"
    )
    assert http(kube, "PUT", CMS, {})[1]["reason"] == "MethodNotAllowed"
    assert http(kube, "GET", "/api/v1/namespaces/default/configmaps?labelSelector=a+in+(x")[1]["reason"] == "BadRequest"
    status, body, _ = http(kube, "POST", CMS, {"metadata": {"name": "Bad_Name"}})
    assert (status, body["reason"]) == (422, "Invalid")
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    status, body, _ = http(kube, "PATCH", f"{CMS}/x", {"data": {}}, "application/json")
    assert (status, body["reason"]) == (415, "UnsupportedMediaType")


def test_builtin_namespaces_cannot_be_deleted(kube: KubeServer) -> None:
    status, body, _ = http(kube, "DELETE", "/api/v1/namespaces/default")
    assert (status, body["reason"]) == (403, "Forbidden")


def test_stale_resource_versions_conflict(kube: KubeServer, core: kubernetes.client.CoreV1Api) -> None:
    old = core.create_namespaced_config_map("default", {"metadata": {"name": "cm"}, "data": {"v": "1"}})
    core.patch_namespaced_config_map("cm", "default", {"data": {"v": "2"}})

    old.data = {"v": "stale"}
    with pytest.raises(ApiException) as put:
        core.replace_namespaced_config_map("cm", "default", old)
    assert (put.value.status, reason(put.value)) == (409, "Conflict")
    stale = {"metadata": {"resourceVersion": old.metadata.resource_version}, "data": {"v": "x"}}
    assert http(kube, "PATCH", f"{CMS}/cm", stale, "application/merge-patch+json")[0] == 409

    guarded = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": old.metadata.resource_version},
        {"op": "add", "path": "/data/w", "value": "1"},
    ]
    status, body, _ = http(kube, "PATCH", f"{CMS}/cm", guarded, "application/json-patch+json")
    assert (status, body["reason"]) == (422, "Invalid")
    assert core.read_namespaced_config_map("cm", "default").data == {"v": "2"}


def test_generate_name_for_events(core: kubernetes.client.CoreV1Api) -> None:
    event = core.create_namespaced_event(
        "default",
        {
            "metadata": {"generateName": "kopf-event-"},
            "involvedObject": {"kind": "ConfigMap", "name": "x"},
            "reason": "Testing",
            "message": "hello",
            "type": "Normal",
        },
    )
    assert event.metadata.name.startswith("kopf-event-")
    assert len(event.metadata.name) == len("kopf-event-") + 5
    selected = core.list_namespaced_event("default", field_selector="involvedObject.name=x")
    assert [e.metadata.name for e in selected.items] == [event.metadata.name]


def test_watch_resumes_and_expires(kube: KubeServer, core: kubernetes.client.CoreV1Api) -> None:
    listed = core.list_namespaced_config_map("default")
    since = listed.metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "w"}})
    core.patch_namespaced_config_map("w", "default", {"data": {"a": "b"}})
    core.delete_namespaced_config_map("w", "default")
    events = watch_lines(kube, f"{CMS}?watch=true&resourceVersion={since}&timeoutSeconds=0.2")
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert [int(e["object"]["metadata"]["resourceVersion"]) for e in events] == [
        int(since) + 1,
        int(since) + 2,
        int(since) + 3,
    ]

    kube.compact()
    expired = watch_lines(kube, f"{CMS}?watch=true&resourceVersion={since}")
    assert [(e["type"], e["object"]["code"], e["object"]["reason"]) for e in expired] == [("ERROR", 410, "Expired")]
    future = watch_lines(kube, f"{CMS}?watch=true&resourceVersion=99999")
    assert future[0]["object"]["code"] == 410


def test_watch_streams_live_events_with_the_official_client(
    kube: KubeServer, core: kubernetes.client.CoreV1Api
) -> None:
    since = core.list_namespaced_config_map("default").metadata.resource_version
    seen: list[tuple[str, str]] = []

    def follow() -> None:
        stream = kubernetes.watch.Watch().stream(
            core.list_namespaced_config_map, "default", resource_version=since, timeout_seconds=2, label_selector="app"
        )
        for event in stream:
            seen.append((event["type"], event["object"].metadata.name))
            if len(seen) == 3:
                break

    thread = threading.Thread(target=follow)
    thread.start()
    wait_until(lambda: kube.requests.count("GET", r"/configmaps$") >= 2)
    core.create_namespaced_config_map("default", {"metadata": {"name": "out"}})
    core.create_namespaced_config_map("default", {"metadata": {"name": "in", "labels": {"app": "x"}}})
    core.patch_namespaced_config_map("out", "default", {"metadata": {"labels": {"app": "y"}}})
    core.patch_namespaced_config_map("in", "default", {"metadata": {"labels": {"app": None}}})
    thread.join(5)
    assert seen == [("ADDED", "in"), ("ADDED", "out"), ("DELETED", "in")]


def test_label_and_field_selectors(kube: KubeServer, core: kubernetes.client.CoreV1Api) -> None:
    for name, labels in (("a", {"env": "prod", "tier": "db"}), ("b", {"env": "dev"}), ("c", {})):
        core.create_namespaced_config_map("default", {"metadata": {"name": name, "labels": labels}})

    def names(**kwargs: str) -> list[str]:
        return [cm.metadata.name for cm in core.list_namespaced_config_map("default", **kwargs).items]

    assert names(label_selector="env=prod") == ["a"]
    assert names(label_selector="env!=prod") == ["b", "c"]
    assert names(label_selector="env") == ["a", "b"]
    assert names(label_selector="!env") == ["c"]
    assert names(label_selector="env in (dev,prod),tier notin (cache)") == ["a", "b"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.name!=b,metadata.namespace=default") == ["a", "c"]
    with pytest.raises(ApiException) as bad:
        names(field_selector="spec.x=1")
    assert bad.value.status == 400

    status, deleted, _ = http(kube, "DELETE", f"{CMS}?labelSelector=env%3Ddev")  # deletecollection
    assert status == 200
    assert [item["metadata"]["name"] for item in deleted["items"]] == ["b"]
    assert names() == ["a", "c"]


def test_list_pagination(kube: KubeServer, core: kubernetes.client.CoreV1Api) -> None:
    for index in range(5):
        core.create_namespaced_config_map("default", {"metadata": {"name": f"cm{index}"}})
    first = core.list_namespaced_config_map("default", limit=2)
    second = core.list_namespaced_config_map("default", limit=2, _continue=first.metadata._continue)
    assert [c.metadata.name for c in first.items + second.items] == ["cm0", "cm1", "cm2", "cm3"]
    assert second.metadata.remaining_item_count == 1


def test_secrets_namespaces_and_garbage_collection(kube: KubeServer, core: kubernetes.client.CoreV1Api) -> None:
    secret = core.create_namespaced_secret("default", {"metadata": {"name": "s"}, "stringData": {"pw": "hunter2"}})
    assert secret.data == {"pw": "aHVudGVyMg=="}
    assert secret.type == "Opaque"

    core.create_namespace({"metadata": {"name": "team"}})
    owner = core.create_namespaced_config_map("team", {"metadata": {"name": "owner"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    core.create_namespaced_config_map("team", {"metadata": {"name": "owned", "ownerReferences": [ref]}})
    core.create_namespaced_config_map("team", {"metadata": {"name": "held", "finalizers": ["x/y"]}})
    core.delete_namespaced_config_map("owner", "team")
    assert kube.get("v1", "configmaps", "team", "owned") is None

    core.delete_namespace("team")
    assert core.read_namespace("team").status.phase == "Terminating"
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_config_map("team", {"metadata": {"name": "late"}})
    assert refused.value.status == 403
    core.patch_namespaced_config_map("held", "team", {"metadata": {"finalizers": None}})
    assert kube.get("v1", "namespaces", None, "team") is None


def test_fault_injection(kube: KubeServer, core: kubernetes.client.CoreV1Api) -> None:
    fault = kube.inject_fault("GET", r"/configmaps$", status=500, times=1)
    with pytest.raises(ApiException) as failed:
        core.list_namespaced_config_map("default")
    assert failed.value.status == 500
    assert fault.hits == 1
    core.list_namespaced_config_map("default")
    kube.inject_fault("POST", "/configmaps", status=409)
    with pytest.raises(ApiException) as conflicted:
        core.create_namespaced_config_map("default", {"metadata": {"name": "x"}})
    assert reason(conflicted.value) == "Conflict"
    kube.inject_fault("GET", "/configmaps", drop_watch=True)
    core.create_namespaced_config_map("default", {"metadata": {"name": "y"}})
    with pytest.raises(Exception, match=r"IncompleteRead|Connection|chunk"):
        watch_lines(kube, f"{CMS}?watch=true")


def test_kubectl_apply_get_patch_delete(kube: KubeServer, kubeconfig: str, tmp_path: pathlib.Path) -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")

    def kubectl(*args: str) -> str:
        done = subprocess.run(
            ["kubectl", "--kubeconfig", kubeconfig, *args], capture_output=True, text=True, timeout=30, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manifest = tmp_path / "crd.json"
    manifest.write_text(json.dumps(table_crd()))
    kubectl("--validate=false", "apply", "-f", str(manifest))
    item = tmp_path / "table.json"
    item.write_text(json.dumps(table("t1")))
    kubectl("--validate=false", "apply", "-f", str(item))
    assert "PAY_PER_REQUEST" in kubectl("get", "ut")  # the printer column
    kubectl("patch", "ut", "t1", "--type=merge", "-p", '{"spec":{"billing":"PROVISIONED"}}')
    assert kubectl("get", "ut", "t1", "-o", "jsonpath={.spec.billing}") == "PROVISIONED"
    kubectl("create", "configmap", "made-by-kubectl", "--from-literal=a=b")  # a protobuf body
    assert kube.get("v1", "configmaps", "default", "made-by-kubectl")["data"] == {"a": "b"}  # type: ignore
    kubectl("delete", "ut", "t1")
    assert kube.get(f"{GROUP}/v1", PLURAL, "default", "t1") is None
