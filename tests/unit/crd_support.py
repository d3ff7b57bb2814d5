"""Helpers for the model and CRD tests: example fixtures and a small API-server stand-in.

The stand-in does what the API server does with a custom object before admission webhooks run:
apply schema defaults, validate against the OpenAPI schema (as the emulated API server does, with
:mod:`~upskill_sandbox.kube_schema`) and evaluate the CEL rules (``celpy``), reporting
``path: message`` lines so tests can compare them with :func:`upskill_operator.models.validation.validate_spec`.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import celpy
from celpy.adapter import json_to_cel

from upskill_operator.generate import crds, kubectl_yaml
from upskill_operator.models import kind_info
from upskill_operator.models.validation import validate_spec
from upskill_sandbox import kube_schema

DATA = Path(__file__).parents[1] / "data"
_CEL = celpy.Environment()


def examples(kind: str | None = None) -> list[dict[str, Any]]:
    """The valid custom resources of tests/data/valid, optionally of one kind."""
    docs = [kubectl_yaml.load(path.read_text()) for path in sorted((DATA / "valid").glob("*.yaml"))]
    return [doc for doc in docs if kind is None or doc["kind"] == kind]


def example(kind: str, name: str) -> dict[str, Any]:
    return copy.deepcopy(next(doc for doc in examples(kind) if doc["metadata"]["name"] == name))


def root_schema(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = crds.build(kind_info(kind))["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def spec_schema(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = root_schema(kind)["properties"]["spec"]
    return schema


def with_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """A copy of ``value`` with schema defaults applied top-down, where the parent exists."""
    value = copy.deepcopy(value)
    if isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                value[key] = with_defaults(value[key], sub)
    elif isinstance(value, list) and "items" in schema:
        value = [with_defaults(item, schema["items"]) for item in value]
    return value


def schema_errors(schema: dict[str, Any], value: Any) -> list[str]:
    """The OpenAPI schema's refusals, as the emulated API server checks them (kube-openapi's rules)."""
    causes = kube_schema.schema_causes(
        kube_schema.make_validator({"type": "object", "properties": {"spec": schema}}), {"spec": value}
    )
    return sorted(f"{cause.field}: {cause.message}" for cause in causes)


def cel_errors(schema: dict[str, Any], new: Any, old: Any = None, path: str = "spec") -> list[str]:
    """``path: message`` for every CEL rule that fails on ``new`` (``old`` for transition rules)."""
    out: list[str] = []
    for rule in schema.get("x-kubernetes-validations", []):
        transition = re.search(r"\boldSelf\b", rule["rule"]) is not None
        if transition and old is None:
            continue
        activation = {"self": json_to_cel(new)}
        if transition:
            activation["oldSelf"] = json_to_cel(old)
        result = _CEL.program(_CEL.compile(rule["rule"])).evaluate(activation)
        if not (isinstance(result, celpy.celtypes.BoolType) and result):
            out.append(f"{path}{rule.get('fieldPath', '')}: {rule['message']}")
    if isinstance(new, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in new:
                old_value = old.get(key) if isinstance(old, dict) else None
                out += cel_errors(sub, new[key], old_value, f"{path}.{key}")
    elif isinstance(new, list) and "items" in schema:
        for index, item in enumerate(new):
            out += cel_errors(schema["items"], item, None, f"{path}[{index}]")
    return out


def admission_errors(kind: str, spec: Any, old_spec: Any = None) -> list[str]:
    """What the API server would refuse: schema errors first, CEL rules only on a schema-valid object."""
    schema = spec_schema(kind)
    new = with_defaults(spec, schema)
    errors = schema_errors(schema, new)
    if errors:
        return errors
    old = with_defaults(old_spec, schema) if old_spec is not None else None
    return cel_errors(schema, new, old)


def walk(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every node of a schema with its path (``.properties`` names, ``[*]`` for items and map values)."""
    nodes = [(path, schema)]
    for name, sub in schema.get("properties", {}).items():
        nodes += walk(sub, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            nodes += walk(schema[key], f"{path}[*]")
    return nodes


DELETE = object()
"""A value for :func:`mutated` that removes the field."""


def mutated(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``{"a.b[0].c": value}`` changes applied (:data:`DELETE` removes)."""
    out = copy.deepcopy(base)
    for path, value in changes.items():
        parts: list[str | int] = [int(p) if p.isdigit() else p for p in re.split(r"\.|\[(\d+)\]\.?", path) if p]
        node: Any = out
        for part in parts[:-1]:
            node = node[part]
        if value is DELETE:
            del node[parts[-1]]
        else:
            node[parts[-1]] = copy.deepcopy(value)
    return out


def _undouble(line: str) -> str:
    """``spec.keys: spec.keys: immutable ...`` (the API server prefixes the path to a message that has it too)."""
    path, _, message = line.partition(": ")
    return message if message.startswith(f"{path}: ") else line


def static(line: str) -> str:
    """A validate_spec line as the matching CEL rule words it: without the trailing ``(got ...)``."""
    return re.sub(r" \(got [^)]*\)$", "", line)


def assert_refused(kind: str, spec: Any, expected: list[str], admission: str, old_spec: Any = None) -> None:
    """validate_spec gives exactly ``expected``; the API server stand-in refuses as ``admission`` says.

    ``admission`` is ``cel`` (the CRD's CEL rules give the same lines, minus ``(got ...)``), ``schema``
    (the OpenAPI schema refuses it) or ``webhook`` (only the webhook and the operator can refuse it).
    """
    assert validate_spec(kind, spec, old_spec) == expected
    refused = [_undouble(line) for line in admission_errors(kind, spec, old_spec)]
    if admission == "cel":
        assert sorted(refused) == sorted(static(line) for line in expected)
    elif admission == "schema":
        assert refused, "the CRD schema should refuse this"
    else:
        assert admission == "webhook"
        assert refused == []
