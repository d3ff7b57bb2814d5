"""The generated CRDs: up to date, structural, described, and agreeing with the models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import Field

from upskill_operator.generate import crds
from upskill_operator.models import KINDS, kind_info
from upskill_operator.models.common import KindInfo, Model, ResourceStatus
from upskill_operator.models.validation import validate_spec

from unit.crd_support import admission_errors, examples, root_schema, schema_errors, spec_schema, walk, with_defaults

REPO = Path(__file__).parents[2]
KIND_NAMES = [kind.kind for kind in KINDS]


def test_committed_crds_match_the_models() -> None:
    assert crds.check(REPO / "crds") == [], "run `upskill-operator crds`"


def test_rendering_is_deterministic_and_named_by_plural() -> None:
    first, second = crds.render_all(), crds.render_all()
    assert first == second
    assert sorted(first) == [
        "upskill.io_upskilldatabases.yaml",
        "upskill.io_upskillsecrets.yaml",
        "upskill.io_upskilltables.yaml",
    ]
    for text in first.values():
        assert text.startswith("# Generated")
        assert "&id" not in text
        assert "*id" not in text


def test_write_then_check_reports_missing_stale_and_extra(tmp_path: Path) -> None:
    assert crds.check(tmp_path / "absent") == [f"{name} (missing)" for name in sorted(crds.render_all())]
    paths = crds.write(tmp_path)
    assert [p.name for p in paths] == sorted(crds.render_all())
    assert crds.check(tmp_path) == []
    (tmp_path / "upskill.io_upskilltables.yaml").write_text("stale: true\n")
    (tmp_path / "upskill.io_gone.yaml").write_text("kind: CustomResourceDefinition\n")
    (tmp_path / "upskill.io_upskillsecrets.yaml").unlink()
    (tmp_path / "unrelated.yaml").write_text("left alone\n")
    assert crds.check(tmp_path) == [
        "upskill.io_gone.yaml (extra)",
        "upskill.io_upskillsecrets.yaml (missing)",
        "upskill.io_upskilltables.yaml (stale)",
    ]
    crds.write(tmp_path)
    assert crds.check(tmp_path) == []
    assert (tmp_path / "unrelated.yaml").exists()


@pytest.mark.parametrize("kind", KINDS, ids=KIND_NAMES)
def test_crd_identity(kind: KindInfo) -> None:
    crd = yaml.safe_load(crds.render_all()[f"upskill.io_{kind.plural}.yaml"])
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["metadata"]["name"] == f"{kind.plural}.upskill.io"
    spec = crd["spec"]
    assert spec["group"] == "upskill.io"
    assert spec["scope"] == "Namespaced"
    assert spec["names"] == {
        "kind": kind.kind,
        "listKind": f"{kind.kind}List",
        "plural": kind.plural,
        "singular": kind.singular,
        "shortNames": list(kind.short_names),
        "categories": ["upskill"],
    }
    [version] = spec["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    assert version["subresources"] == {"status": {}}
    root = version["schema"]["openAPIV3Schema"]
    assert root["required"] == ["spec"]
    assert root["properties"]["metadata"] == {"type": "object"}  # anything more is refused by the API server


def test_short_names_and_printer_columns() -> None:
    short = {kind.kind: kind.short_names for kind in KINDS}
    assert short == {"UpskillTable": ("utable",), "UpskillDatabase": ("udb",), "UpskillSecret": ("usecret",)}
    main_column = {"UpskillTable": "Table", "UpskillDatabase": "Endpoint", "UpskillSecret": "ARN"}
    paths = {"Endpoint": ".status.endpoints.proxy", "ARN": ".status.arn", "Table": ".status.tableName"}
    for kind in KINDS:
        columns = crds.build(kind)["spec"]["versions"][0]["additionalPrinterColumns"]
        default = [c["name"] for c in columns if not c.get("priority")]
        assert default == ["Ready", "Phase", main_column[kind.kind], "Age"]
        by_name = {c["name"]: c for c in columns}
        assert by_name["Ready"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status'
        assert by_name["Age"] == {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
        assert by_name[main_column[kind.kind]]["jsonPath"] == paths[main_column[kind.kind]]


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_schema_is_structural(kind: str) -> None:
    for path, node in walk(root_schema(kind)):
        assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), path
        assert not {"$ref", "$defs", "anyOf", "allOf", "oneOf", "not", "title"} & node.keys(), path
        assert not ("properties" in node and "additionalProperties" in node), path
        assert node.get("additionalProperties", {}) is not False, path
        assert node.get("default", "absent") is not None, path
        assert None not in node.get("enum", ()), path
        if node.get("type") == "object" and path != ".metadata":
            assert "properties" in node or "additionalProperties" in node, path
    assert not any(n.get("x-kubernetes-preserve-unknown-fields") for _, n in walk(root_schema(kind)))


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_every_property_has_a_description(kind: str) -> None:
    for path, node in walk(root_schema(kind)):
        for name, prop in node.get("properties", {}).items():
            if (path, name) != ("", "metadata"):
                assert prop.get("description"), f"{path}.{name}"


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_status_comes_from_the_status_model(kind: str) -> None:
    status = root_schema(kind)["properties"]["status"]
    assert status["type"] == "object"
    assert {"conditions", "observedGeneration", "phase", "lastSyncTime"} <= status["properties"].keys()
    condition = status["properties"]["conditions"]["items"]
    assert condition["required"] == ["status", "type"]
    assert condition["properties"]["status"]["enum"] == ["True", "False", "Unknown"]


def _rules(kind: str, path: str) -> list[dict[str, str]]:
    nodes = dict(walk(spec_schema(kind)))
    rules: list[dict[str, str]] = nodes[path].get("x-kubernetes-validations", [])
    return rules


@pytest.mark.parametrize(
    ("kind", "field", "optional"),
    [
        ("UpskillTable", "keys", False),
        ("UpskillTable", "tableName", True),
        ("UpskillDatabase", "databaseName", False),
        ("UpskillDatabase", "clusterIdentifier", True),
        ("UpskillDatabase", "storageEncrypted", False),
        ("UpskillDatabase", "kmsKeyId", True),
        ("UpskillDatabase", "masterUser.username", False),
        ("UpskillSecret", "secretName", True),
    ],
)
def test_immutable_fields_have_cel_transition_rules(kind: str, field: str, optional: bool) -> None:
    message = f"spec.{field}: immutable after creation"
    assert {"rule": "self == oldSelf", "message": message} in _rules(kind, f".{field}")
    parent, _, name = f".{field}".rpartition(".")
    presence = {"rule": f"has(self.{name}) == has(oldSelf.{name})", "message": message, "fieldPath": f".{name}"}
    assert (presence in _rules(kind, parent)) is optional


@pytest.mark.parametrize(
    ("kind", "path", "message"),
    [
        ("UpskillDatabase", ".capacity", "exactly one of serverless or provisioned must be set"),
        ("UpskillDatabase", ".capacity.serverless", "must not exceed maxACU"),
        ("UpskillDatabase", "", "needs at least one reader (capacity readReplicas is 0)"),
        ("UpskillSecret", ".source", "exactly one of generate, fromSecret or database must be set"),
        ("UpskillSecret", ".target", "exactly one of key or keys must be set"),
    ],
)
def test_cross_field_cel_rules(kind: str, path: str, message: str) -> None:
    assert message in [rule["message"] for rule in _rules(kind, path)]


def test_constraints_reach_the_schema() -> None:
    nodes = dict(walk(spec_schema("UpskillDatabase")))
    assert {k: nodes[".capacity.serverless.minACU"][k] for k in ("minimum", "maximum")} == {
        "minimum": 0,
        "maximum": 256,
    }
    # the 0.5 step is a CEL rule: a real API server checks whole numbers against int64(multipleOf) = 0
    for field in (".capacity.serverless.minACU", ".capacity.serverless.maxACU"):
        assert "multipleOf" not in nodes[field]
        assert [rule["message"] for rule in nodes[field]["x-kubernetes-validations"]] == ["must be a multiple of 0.5"]
    assert nodes[".proxy.borrowTimeoutSeconds"]["default"] == 5
    assert (nodes[".proxy.borrowTimeoutSeconds"]["minimum"], nodes[".proxy.borrowTimeoutSeconds"]["maximum"]) == (
        1,
        3600,
    )
    assert nodes[".network.subnetIds"]["minItems"] == 2
    assert nodes[".tags"]["additionalProperties"] == {"type": "string", "maxLength": 256}
    assert nodes[".tags"]["maxProperties"] == 40
    secret = dict(walk(spec_schema("UpskillSecret")))
    assert secret[".target.key"]["pattern"] == "^[A-Za-z_][A-Za-z0-9_]*$"
    assert (secret[".source.generate.length"]["minimum"], secret[".source.generate.length"]["maximum"]) == (8, 4096)
    assert secret[".deletionPolicy"]["default"] == "Delete"
    assert secret[".target.keys"]["x-kubernetes-list-map-keys"] == ["key"]


@pytest.mark.parametrize("doc", examples(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_examples_pass_the_crd_schema_cel_rules_and_the_models(doc: dict[str, Any]) -> None:
    schema = root_schema(doc["kind"])
    assert schema_errors(schema, with_defaults(doc, schema)) == []
    assert admission_errors(doc["kind"], doc["spec"]) == []
    assert validate_spec(doc["kind"], doc["spec"]) == []
    assert validate_spec(doc["kind"], doc["spec"], old_spec=doc["spec"]) == []
    assert admission_errors(doc["kind"], doc["spec"], old_spec=doc["spec"]) == []


def test_build_refuses_a_property_without_description() -> None:
    class Bare(Model):
        """A spec with an undocumented field."""

        size: int = 1

    kind = KindInfo("Bare", "bares", "bare", ("b",), Bare, ResourceStatus, "Bare.")
    with pytest.raises(ValueError, match=r"Bare\.spec\.size has no description"):
        crds.build(kind)


def test_build_refuses_unions_that_are_not_structural() -> None:
    class Mixed(Model):
        """A spec with a union."""

        size: int | str = Field(1, description="Either.")

    kind = KindInfo("Mixed", "mixeds", "mixed", ("m",), Mixed, ResourceStatus, "Mixed.")
    with pytest.raises(ValueError, match=r"Mixed\.spec\.size: only Optional unions are structural"):
        crds.build(kind)


def test_kind_info_lookup() -> None:
    assert kind_info("UpskillDatabase") is kind_info("udb") is kind_info("upskilldatabases")
    assert kind_info("upskillsecret").kind == "UpskillSecret"
    with pytest.raises(KeyError, match="unknown kind"):
        kind_info("Deployment")
