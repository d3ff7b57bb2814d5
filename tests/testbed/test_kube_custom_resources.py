"""Custom resources on the emulated Kubernetes API: CRDs, status, finalizers, schemas, CEL, dry runs."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest

from upskill_sandbox.kube import KubeApiError, KubeServer

from testbed.kube_support import GROUP, PLURAL, TABLES, api_client, http, table, table_crd

CMS = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
def kube() -> Iterator[KubeServer]:
    with KubeServer() as server:
        yield server


@pytest.fixture
def kubeconfig(kube: KubeServer, tmp_path: pathlib.Path) -> str:
    return str(kube.write_kubeconfig(tmp_path / "kubeconfig"))


@pytest.fixture
def custom(kubeconfig: str) -> Iterator[kubernetes.client.CustomObjectsApi]:
    with api_client(kubeconfig) as client:
        yield kubernetes.client.CustomObjectsApi(client)


@pytest.fixture
def crd(kube: KubeServer) -> dict[str, Any]:
    return kube.apply_manifest(table_crd())


def test_crd_registration_and_discovery(kube: KubeServer, crd: dict[str, Any]) -> None:
    assert {c["type"]: c["status"] for c in crd["status"]["conditions"]}["Established"] == "True"
    _, resources, _ = http(kube, "GET", f"/apis/{GROUP}/v1")
    main, status = resources["resources"]
    assert main == {
        "name": PLURAL,
        "singularName": "upskilltable",
        "namespaced": True,
        "kind": "UpskillTable",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["ut"],
        "categories": ["upskill"],
    }
    assert status["name"] == f"{PLURAL}/status"
    assert status["verbs"] == ["get", "patch", "update"]
    assert GROUP in {g["name"] for g in http(kube, "GET", "/apis")[1]["groups"]}

    kube.apply_manifest(table("t1"))
    http(kube, "DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{PLURAL}.{GROUP}")
    assert http(kube, "GET", f"/apis/{GROUP}/v1")[0] == 404
    assert http(kube, "GET", TABLES)[0] == 404
    assert kube.list(f"{GROUP}/v1", PLURAL) == []


def test_server_side_printing_for_kubectl(kube: KubeServer, crd: dict[str, Any]) -> None:
    kube.apply_manifest(table("t1", billing="PROVISIONED"))
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    status, printed, _ = http(kube, "GET", TABLES, headers={"Accept": accept})
    assert (status, printed["kind"]) == (200, "Table")
    assert [column["name"] for column in printed["columnDefinitions"]] == ["Name", "Billing"]
    assert [row["cells"] for row in printed["rows"]] == [["t1", "PROVISIONED"]]


def test_generation_and_status_subresource(
    kube: KubeServer, crd: dict[str, Any], custom: kubernetes.client.CustomObjectsApi
) -> None:
    args = (GROUP, "v1", "default", PLURAL, "t1")
    created = custom.create_namespaced_custom_object(*args[:4], {**table("t1"), "status": {"phase": "Fake"}})
    assert created["metadata"]["generation"] == 1  # create cannot set status
    assert "status" not in created

    labelled = custom.patch_namespaced_custom_object(*args, {"metadata": {"labels": {"a": "b"}}})
    assert labelled["metadata"]["generation"] == 1
    respec = custom.patch_namespaced_custom_object(*args, {"spec": {"billing": "PROVISIONED"}, "status": {"x": 1}})
    assert respec["metadata"]["generation"] == 2  # main writes ignore status
    assert "status" not in respec

    status = custom.patch_namespaced_custom_object_status(
        *args, {"status": {"phase": "Ready"}, "spec": {"billing": "PAY_PER_REQUEST"}}
    )
    assert status["status"] == {"phase": "Ready"}
    assert status["spec"]["billing"] == "PROVISIONED"
    assert status["metadata"]["generation"] == 2
    status["status"] = {"phase": "Replaced"}
    replaced = custom.replace_namespaced_custom_object_status(*args, status)
    assert replaced["status"] == {"phase": "Replaced"}
    replaced["spec"]["billing"] = "PAY_PER_REQUEST"
    replaced["status"] = {"phase": "ignored"}
    put = custom.replace_namespaced_custom_object(*args, replaced)
    assert put["metadata"]["generation"] == 3
    assert put["status"] == {"phase": "Replaced"}

    before = put["metadata"]["resourceVersion"]
    same = custom.patch_namespaced_custom_object(*args, {"spec": {"billing": "PAY_PER_REQUEST"}})
    assert same["metadata"]["resourceVersion"] == before  # no-op writes do not bump the version


def test_finalizers_and_deletion_timestamp(kube: KubeServer, crd: dict[str, Any]) -> None:
    kube.apply_manifest({**table("t1"), "metadata": {"name": "t1", "namespace": "default", "finalizers": ["x/y"]}})
    status, marked, _ = http(kube, "DELETE", f"{TABLES}/t1")
    assert status == 200
    assert marked["metadata"]["deletionTimestamp"]
    assert marked["metadata"]["generation"] == 2
    assert kube.get(f"{GROUP}/v1", PLURAL, "default", "t1") is not None

    status, body, _ = http(
        kube, "PATCH", f"{TABLES}/t1", {"metadata": {"finalizers": ["x/y", "new/one"]}}, "application/merge-patch+json"
    )
    assert status == 422
    assert "no new finalizers can be added" in body["message"]

    status, _, _ = http(
        kube, "PATCH", f"{TABLES}/t1", {"metadata": {"finalizers": None}}, "application/merge-patch+json"
    )
    assert status == 200
    assert kube.get(f"{GROUP}/v1", PLURAL, "default", "t1") is None

    kube.apply_manifest(table("t2"))
    assert http(kube, "DELETE", f"{TABLES}/t2")[0] == 200
    assert kube.get(f"{GROUP}/v1", PLURAL, "default", "t2") is None


def test_schema_defaults_pruning_and_messages(kube: KubeServer, crd: dict[str, Any]) -> None:
    body = table(
        "t1",
        keys={"partition": {"name": "pk"}, "bogus": 1},
        stream={},
        extra={"free": {"x": 1}},
        unknown="dropped",
        replicas=None,
        billing=None,
        tags=None,
        port="http",
    )
    status, created, headers = http(kube, "POST", TABLES, body)
    assert status == 201, created
    spec = created["spec"]
    assert spec["billing"] == "PAY_PER_REQUEST"  # null of a non-nullable field is dropped, then defaulted
    assert spec["keys"] == {"partition": {"name": "pk", "type": "S"}}  # no sort key: its defaults do not apply
    assert spec["stream"] == {"enabled": False, "view": "NEW_AND_OLD_IMAGES"}
    assert spec["extra"] == {"free": {"x": 1}}
    assert "unknown" not in spec
    assert "tags" not in spec
    assert spec["replicas"] is None  # nullable
    assert 'unknown field \\"spec.unknown\\"' in " ".join(headers["warning"])
    strict = http(kube, "POST", f"{TABLES}?fieldValidation=Strict", table("t2", unknown=1))
    assert strict[0] == 400
    assert 'unknown field "spec.unknown"' in strict[1]["message"]

    status, body, _ = http(kube, "POST", TABLES, table("notifications", keys={"partition": {"name": "p", "type": "X"}}))
    assert (status, body["reason"]) == (422, "Invalid")
    assert body["message"] == (
        'UpskillTable.upskill.io "notifications" is invalid: spec.keys.partition.type: '
        'Unsupported value: "X": supported values: "S", "N", "B"'
    )
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueNotSupported",
            "field": "spec.keys.partition.type",
            "message": 'Unsupported value: "X": supported values: "S", "N", "B"',
        }
    ]

    _, body, _ = http(
        kube,
        "POST",
        TABLES,
        {
            **table("t3", replicas="two", items=["a", "a"]),
            "spec": {"replicas": "two", "items": ["a", "a"], "tableName": "x" * 21},
        },
    )
    messages = {cause["field"]: cause["message"] for cause in body["details"]["causes"]}
    assert messages == {
        "spec.keys": "Required value",
        "spec.replicas": 'Invalid value: "string": spec.replicas in body must be of type integer,null: "string"',
        "spec.items[1]": 'Duplicate value: "a"',
        "spec.tableName": f'Invalid value: "{"x" * 21}": spec.tableName in body should be at most 20 chars long',
    }
    assert body["message"].startswith('UpskillTable.upskill.io "t3" is invalid: [')


def test_cel_rules(kube: KubeServer, crd: dict[str, Any]) -> None:
    assert http(kube, "POST", TABLES, table("t1", tableName="orders"))[0] == 201
    status, body, _ = http(
        kube, "PATCH", f"{TABLES}/t1", {"spec": {"tableName": "renamed"}}, "application/merge-patch+json"
    )
    assert (status, body["reason"]) == (422, "Invalid")
    assert body["message"] == (
        'UpskillTable.upskill.io "t1" is invalid: spec.tableName: Invalid value: "string": is immutable'
    )
    assert (
        http(kube, "PATCH", f"{TABLES}/t1", {"spec": {"billing": "PROVISIONED"}}, "application/merge-patch+json")[0]
        == 200
    )

    status, body, _ = http(kube, "POST", TABLES, table("t2", capacity={"min": 5, "max": 1}))
    assert status == 422
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "field": "spec.capacity",
            "message": 'Invalid value: "object": min must not exceed max',
        }
    ]
    status, body, _ = http(kube, "POST", TABLES, table("t3", capacity={"min": 5}))
    assert status == 422
    assert "evaluating rule: self.min <= self.max" in body["message"]


def test_cel_rule_outside_the_supported_subset_passes_with_a_warning(
    kube: KubeServer, caplog: pytest.LogCaptureFixture
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
                "x-kubernetes-validations": [{"rule": "self.isSorted()"}],
            }
        },
    }
    kube.apply_manifest(table_crd(schema))
    assert http(kube, "POST", TABLES, table("t1"))[0] == 201
    assert "cannot evaluate" in caplog.text
    broken = table_crd({"type": "object", "x-kubernetes-validations": [{"rule": "self.a =="}]})
    with pytest.raises(KubeApiError) as refused:
        kube.apply_manifest(broken)
    assert refused.value.status == 422
    assert "compilation failed" in str(refused.value)


def test_dry_run_stores_nothing(kube: KubeServer, crd: dict[str, Any]) -> None:
    status, body, _ = http(kube, "POST", f"{TABLES}?dryRun=All", table("t1"))
    assert status == 201
    assert body["spec"]["billing"] == "PAY_PER_REQUEST"
    assert kube.get(f"{GROUP}/v1", PLURAL, "default", "t1") is None
    assert http(kube, "POST", f"{TABLES}?dryRun=All", table("t1", billing="FREE"))[0] == 422
    kube.apply_manifest(table("t1"))
    rv = kube.resource_version
    status, body, _ = http(
        kube, "PATCH", f"{TABLES}/t1?dryRun=All", {"spec": {"billing": "PROVISIONED"}}, "application/merge-patch+json"
    )
    assert status == 200
    assert body["spec"]["billing"] == "PROVISIONED"
    assert kube.resource_version == rv
    assert kube.get(f"{GROUP}/v1", PLURAL, "default", "t1")["spec"]["billing"] == "PAY_PER_REQUEST"  # type: ignore
