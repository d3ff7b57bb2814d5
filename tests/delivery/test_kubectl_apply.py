"""``kubectl apply -f`` and ``kubectl apply -k`` of crds/ and of the example stack store the same objects.

The real kubectl applies both folders to the emulated API server (one fresh server per way), once
with ``-f <folder>`` (YAML 1.1 reading of each file) and once with ``-k <folder>`` (kustomize renders
and re-quotes, then kubectl reads its output); the stored objects must be identical, and the strings
YAML 1.1 would turn into booleans (DynamoDB's ``N``) must arrive as strings. Both must exit 0: the
folders' kustomization files are named ``Kustomization`` so that ``-f`` skips them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from delivery.kustomize import KUBECTL, ROOT
from upskill_operator.models import KINDS
from upskill_sandbox.kube import KubeServer

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")

FOLDERS = ("crds", "manifests/examples/upskill-stack")
VOLATILE = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields")


def _stored(flag: str, tmp_path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Every CRD and custom object of ours after ``kubectl apply <flag> <folder>`` of both folders."""
    assert KUBECTL is not None
    with KubeServer() as kube:
        kubeconfig = kube.write_kubeconfig(tmp_path / f"kubeconfig{flag}")
        kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "upskill"}})
        for folder in FOLDERS:
            command = [KUBECTL, "--kubeconfig", str(kubeconfig), "apply", "--validate=false", flag, str(ROOT / folder)]
            result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
            assert result.returncode == 0, f"kubectl apply {flag} {folder}: {result.stderr}"
        objects = kube.list("apiextensions.k8s.io/v1", "customresourcedefinitions")
        for info in KINDS:
            objects += kube.list("upskill.io/v1alpha1", info.plural, "upskill")
    for obj in objects:
        obj.pop("status", None)  # written by the server (a CRD's conditions carry their own times)
        for key in VOLATILE:
            obj["metadata"].pop(key, None)
    return {(obj["kind"], obj["metadata"]["name"]): obj for obj in objects}


def test_apply_f_and_apply_k_store_the_same_objects(tmp_path: Path) -> None:
    by_file, by_kustomize = _stored("-f", tmp_path), _stored("-k", tmp_path)
    assert len(by_file) == 13  # three CRDs and ten example resources
    assert by_file == by_kustomize
    table_crd = by_file[("CustomResourceDefinition", "upskilltables.upskill.io")]
    key = table_crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["keys"]
    assert key["properties"]["partition"]["properties"]["type"]["enum"] == ["S", "N", "B"]
    assert by_file[("UpskillTable", "activity-stream")]["spec"]["keys"]["sort"]["type"] == "N"
    database = by_file[("UpskillDatabase", "auth-db")]["spec"]["capacity"]["serverless"]
    assert (database["minACU"], database["maxACU"]) == (0, 4)
