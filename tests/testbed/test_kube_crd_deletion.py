"""Deleting a CRD on the emulated API server, as kube-apiextensions-apiserver does it (see kube_crd_cleanup)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from upskill_sandbox.kube import KubeServer

from testbed.kube_support import GROUP, PLURAL, TABLES, http, table, table_crd

CRD = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{PLURAL}.{GROUP}"
MERGE = "application/merge-patch+json"


@pytest.fixture
def kube() -> Iterator[KubeServer]:
    with KubeServer() as server:
        server.apply_manifest(table_crd())
        yield server


def crd(kube: KubeServer) -> dict[str, Any] | None:
    return kube.get("apiextensions.k8s.io/v1", "customresourcedefinitions", None, f"{PLURAL}.{GROUP}")


def terminating_condition(obj: dict[str, Any] | None) -> dict[str, Any]:
    return next(c for c in (obj or {})["status"]["conditions"] if c["type"] == "Terminating")


def test_objects_with_finalizers_keep_the_crd_terminating_until_they_are_released(kube: KubeServer) -> None:
    kube.apply_manifest({**table("held"), "metadata": {"name": "held", "namespace": "default", "finalizers": ["x/y"]}})
    kube.apply_manifest(table("free"))

    status, _, _ = http(kube, "DELETE", CRD)
    assert status == 200
    terminating = crd(kube)
    assert terminating is not None
    assert terminating["metadata"]["deletionTimestamp"]
    assert "customresourcecleanup.apiextensions.k8s.io" in terminating["metadata"]["finalizers"]
    assert terminating_condition(terminating)["status"] == "True"

    assert http(kube, "GET", f"{TABLES}/free")[0] == 404  # no finalizer: deleted at once
    status, held, _ = http(kube, "GET", f"{TABLES}/held")  # still served: its controller must see the deletion
    assert status == 200
    assert held["metadata"]["deletionTimestamp"]
    status, body, _ = http(kube, "POST", TABLES, table("new"))
    assert (status, body["reason"]) == (405, "MethodNotAllowed")
    assert body["message"] == "create not allowed while custom resource definition is terminating"
    status, _, _ = http(kube, "PATCH", f"{TABLES}/held", {"status": {"phase": "Deleting"}}, MERGE)
    assert status == 200

    status, _, _ = http(kube, "PATCH", f"{TABLES}/held", {"metadata": {"finalizers": None}}, MERGE)
    assert status == 200
    assert crd(kube) is None
    assert http(kube, "GET", TABLES)[0] == 404
    assert GROUP not in {g["name"] for g in http(kube, "GET", "/apis")[1]["groups"]}


def test_an_empty_crd_goes_at_once_and_can_be_created_again(kube: KubeServer) -> None:
    assert http(kube, "DELETE", CRD)[0] == 200
    assert crd(kube) is None
    kube.apply_manifest(table_crd())
    kube.apply_manifest(table("again"))
    assert kube.get(f"{GROUP}/v1", PLURAL, "default", "again") is not None
    assert "deletionTimestamp" not in (crd(kube) or {}).get("metadata", {})
