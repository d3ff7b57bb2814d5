"""The emulated API server checks ``multipleOf`` as kube-openapi does, so a CRD a real server breaks on fails here.

A real kube-apiserver (1.28, 1.32) decodes a JSON number without fraction that fits in int64 as an
integer and checks it against ``int64(multipleOf)``; with ``multipleOf: 0.5`` that is 0, refused as a
factor, so every whole number fails. Other numbers are checked as float64.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from upskill_operator.generate import crds, kubectl_yaml
from upskill_operator.models import kind_info
from upskill_sandbox.kube import KubeServer
from upskill_sandbox.kube_schema import make_validator, schema_causes

from testbed.kube_support import http

AUTH_DB = Path(__file__).parents[2] / "manifests/examples/upskill-stack/auth-db.yaml"
DATABASES = "/apis/upskill.io/v1alpha1/namespaces/upskill/upskilldatabases?dryRun=All"


def _causes(factor: float, value: Any, kind: str = "number") -> list[str]:
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {"n": {"type": kind}}}}}
    schema["properties"]["spec"]["properties"]["n"]["multipleOf"] = factor
    return [f"{c.field}: {c.message}" for c in schema_causes(make_validator(schema), {"spec": {"n": value}})]


POSITIVE = "spec.n: Invalid value: 0: factor MultipleOf declared for spec.n must be positive: 0"


@pytest.mark.parametrize(
    ("factor", "value", "kind", "expected"),
    [
        (0.5, 0, "number", [POSITIVE]),
        (0.5, 1, "number", [POSITIVE]),
        (0.5, 4, "number", [POSITIVE]),
        (0.5, 0.5, "number", []),
        (0.5, 4.5, "number", []),
        (0.5, 4.0, "number", []),  # a JSON 4.0 (from a client that writes it so) decodes as float64
        (0.5, 0.3, "number", ["spec.n: Invalid value: 0.3: spec.n in body should be a multiple of 0.5"]),
        (2, 4, "integer", []),
        (2, 3, "integer", ["spec.n: Invalid value: 3: spec.n in body should be a multiple of 2"]),
        (1.5, 4, "number", []),  # int64(1.5) is 1: every integer passes
        (1.5, 4.5, "number", []),
        (1.5, 4.25, "number", ["spec.n: Invalid value: 4.25: spec.n in body should be a multiple of 1.5"]),
        (0.1, 0.3, "number", []),  # 1/0.1*0.3 is 3.0000000000000004, an integer within go-openapi's 1e-9
    ],
)
def test_integers_are_checked_against_the_truncated_factor(
    factor: float, value: Any, kind: str, expected: list[str]
) -> None:
    assert _causes(factor, value, kind) == expected


def _database_crd(*, old: bool) -> dict[str, Any]:
    """The generated CRD; ``old``: with the ACU step as ``multipleOf: 0.5``, as it was first shipped."""
    crd = crds.build(kind_info("UpskillDatabase"))
    root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    serverless = root["properties"]["spec"]["properties"]["capacity"]["properties"]["serverless"]["properties"]
    for field in ("minACU", "maxACU") if old else ():
        del serverless[field]["x-kubernetes-validations"]
        serverless[field]["multipleOf"] = 0.5
    return crd


@pytest.fixture(params=[False, True], ids=["generated-crd", "old-crd"])
def kube(request: pytest.FixtureRequest) -> Iterator[tuple[KubeServer, bool]]:
    with KubeServer() as server:
        server.apply_manifest(_database_crd(old=request.param))
        server.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "upskill"}})
        yield server, request.param


def _serverless(minimum: float, maximum: float) -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(kubectl_yaml.load(AUTH_DB.read_text(encoding="utf-8")))
    doc["spec"]["capacity"] = {"serverless": {"minACU": minimum, "maxACU": maximum}}
    return doc


def test_the_shipped_auth_db_is_refused_only_by_the_old_crd(kube: tuple[KubeServer, bool]) -> None:
    server, old = kube
    doc = kubectl_yaml.load(AUTH_DB.read_text(encoding="utf-8"))
    assert doc["spec"]["capacity"]["serverless"]["maxACU"] == 4  # an integer on the wire, as kubectl sends it
    status, answer, _ = http(server, "POST", DATABASES, doc)
    if old:
        assert status == 422, answer
        field = "spec.capacity.serverless.maxACU"
        refusal = f"{field}: Invalid value: 0: factor MultipleOf declared for {field} must be positive: 0"
        assert refusal in answer["message"]
    else:
        assert status == 201, answer


@pytest.mark.parametrize("acu", [0, 1, 4, 0.5, 4.5])
def test_whole_and_half_acus_pass_the_generated_crd(kube: tuple[KubeServer, bool], acu: float) -> None:
    server, old = kube
    status, answer, _ = http(server, "POST", DATABASES, _serverless(acu, 8.5))
    assert (status == 201) is not (old and isinstance(acu, int)), answer


def test_a_third_of_an_acu_is_refused_with_the_rule(kube: tuple[KubeServer, bool]) -> None:
    server, old = kube
    status, answer, _ = http(server, "POST", DATABASES, _serverless(0.3, 8.5))
    assert status == 422, answer
    field = "spec.capacity.serverless.minACU"
    if old:
        assert f"{field}: Invalid value: 0.3: {field} in body should be a multiple of 0.5" in answer["message"]
    else:
        assert f'{field}: Invalid value: "number": must be a multiple of 0.5' in answer["message"]
