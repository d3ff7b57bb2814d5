"""CustomResourceDefinitions generated from the pydantic models.

``upskill-operator crds`` writes them into ``crds/`` (:func:`write`); ``--check`` fails when the
committed files are stale (:func:`check`).

The models' JSON schemas become *structural* schemas, as the API server requires: every
``$ref`` inlined, ``Optional[X]`` as a non-required ``X``, no ``title``, no
``additionalProperties: false`` (the API server prunes unknown fields instead), and a
description on every property. Constraints, defaults and CEL rules
(``x-kubernetes-validations``) are kept; a keyword that cannot be expressed fails the build, and so
does a fractional ``multipleOf`` (kube-openapi checks an integer value against ``int64(multipleOf)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from upskill_operator.generate import kubectl_yaml
from upskill_operator.models import KINDS
from upskill_operator.models.common import API_GROUP, API_VERSION, KindInfo

__all__ = ["build", "check", "render_all", "write"]

HEADER = "# Generated from the pydantic models by `upskill-operator crds`. Do not edit.\n"
IMMUTABLE_RULE = "self == oldSelf"
_ORDER = (
    "description", "type", "required", "enum", "default", "format", "minimum", "maximum", "multipleOf",
    "minLength", "maxLength", "pattern", "minItems", "maxItems", "minProperties", "maxProperties",
    "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-validations",
    "properties", "additionalProperties", "items",
)  # fmt: skip
_RULE_ORDER = ("rule", "message", "messageExpression", "fieldPath", "reason", "optionalOldSelf")
_PLAIN = frozenset(_ORDER) - {"required", "default", "properties", "additionalProperties", "items"}
_STANDARD = {
    "apiVersion": "APIVersion defines the versioned schema of this representation of an object.",
    "kind": "Kind is a string value representing the REST resource this object represents.",
}


class _Converter:
    """Turns one pydantic JSON schema into a structural schema, naming the path of anything it refuses."""

    def __init__(self, kind: str, schema: dict[str, Any]) -> None:
        self.kind = kind
        self.defs: dict[str, Any] = schema.get("$defs", {})

    def node(self, schema: dict[str, Any], path: str) -> dict[str, Any]:
        schema = self._resolve(schema, path)
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in ("title", "$defs") or (key == "additionalProperties" and value is False):
                continue
            if key == "properties":
                out[key] = {name: self.prop(sub, f"{path}.{name}") for name, sub in sorted(value.items())}
            elif key in ("items", "additionalProperties"):
                out[key] = self.node(value, f"{path}[*]")
            elif key == "required":
                out[key] = sorted(value)
            elif key == "default":
                out[key] = _without_nulls(value)
            elif key == "const":
                out["enum"] = [value]
            elif key == "x-kubernetes-validations":
                out[key] = [{k: rule[k] for k in _RULE_ORDER if k in rule} for rule in value]
            elif key == "multipleOf" and not float(value).is_integer():
                raise ValueError(f"{self.kind}: {path}: multipleOf {value}: real API servers refuse all whole numbers")
            elif key in _PLAIN or key.startswith("x-kubernetes-"):
                out[key] = value
            else:
                raise ValueError(f"{self.kind}: {path}: JSON schema keyword {key!r} has no structural form")
        if "type" not in out:
            raise ValueError(f"{self.kind}: {path}: no type")
        _presence_rules(out)
        return {key: out[key] for key in sorted(out, key=_rank)}

    def prop(self, schema: dict[str, Any], path: str) -> dict[str, Any]:
        node = self.node(schema, path)
        if not node.get("description"):
            raise ValueError(f"{self.kind}: {path} has no description")
        return node

    def _resolve(self, schema: dict[str, Any], path: str) -> dict[str, Any]:
        """Inline ``$ref``, single ``allOf`` and ``anyOf [X, null]``; the outer keys win over the inner ones."""
        while True:
            schema = dict(schema)
            if "$ref" in schema:
                inner = self.defs[schema.pop("$ref").rsplit("/", 1)[-1]]
            elif "allOf" in schema and len(schema["allOf"]) == 1:
                inner = schema.pop("allOf")[0]
            elif "anyOf" in schema:
                options = [option for option in schema.pop("anyOf") if option != {"type": "null"}]
                if len(options) != 1:
                    raise ValueError(f"{self.kind}: {path}: only Optional unions are structural")
                if "default" in schema and schema["default"] is None:
                    del schema["default"]
                inner = options[0]
            else:
                return schema
            schema = _merge(inner, schema)


def _merge(inner: dict[str, Any], outer: dict[str, Any]) -> dict[str, Any]:
    merged = {**inner, **outer}
    rules = [*inner.get("x-kubernetes-validations", []), *outer.get("x-kubernetes-validations", [])]
    if rules:
        merged["x-kubernetes-validations"] = rules
    return merged


def _presence_rules(node: dict[str, Any]) -> None:
    """An optional immutable field may not be added or removed either (CEL skips absent values)."""
    required = set(node.get("required", ()))
    for name, prop in node.get("properties", {}).items():
        if name in required or "default" in prop:
            continue
        for rule in prop.get("x-kubernetes-validations", ()):
            if rule["rule"] == IMMUTABLE_RULE:
                presence = {
                    "rule": f"has(self.{name}) == has(oldSelf.{name})",
                    "message": rule["message"],
                    "fieldPath": f".{name}",
                }
                node["x-kubernetes-validations"] = [*node.get("x-kubernetes-validations", []), presence]


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _rank(key: str) -> tuple[int, str]:
    return (_ORDER.index(key), key) if key in _ORDER else (len(_ORDER), key)


def build(kind: KindInfo) -> dict[str, Any]:
    """The apiextensions.k8s.io/v1 CustomResourceDefinition of one kind."""
    parts = {}
    for part, model in (("spec", kind.spec), ("status", kind.status)):
        schema = model.model_json_schema(by_alias=True, mode="validation")
        parts[part] = _Converter(kind.kind, schema).prop(schema, f"{kind.kind}.{part}")
    properties = {name: {"description": text, "type": "string"} for name, text in _STANDARD.items()}
    properties |= {"metadata": {"type": "object"}, **parts}
    root = {"description": kind.description, "type": "object", "required": ["spec"], "properties": properties}
    columns = []
    for column in kind.columns:
        entry: dict[str, Any] = {"name": column.name, "type": column.type, "jsonPath": column.json_path}
        if column.description:
            entry["description"] = column.description
        if column.priority:
            entry["priority"] = column.priority
        columns.append(entry)
    names = {
        "kind": kind.kind,
        "listKind": f"{kind.kind}List",
        "plural": kind.plural,
        "singular": kind.singular,
        "shortNames": list(kind.short_names),
        "categories": ["upskill"],
    }
    version = {
        "name": API_VERSION,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": root},
        "subresources": {"status": {}},
        "additionalPrinterColumns": columns,
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": kind.crd_name},
        "spec": {"group": API_GROUP, "names": names, "scope": "Namespaced", "versions": [version]},
    }


class _Dumper(kubectl_yaml.Dumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _file_name(kind: KindInfo) -> str:
    return f"{API_GROUP}_{kind.plural}.yaml"


def render_all() -> dict[str, str]:
    """File name (``upskill.io_<plural>.yaml``) to YAML text, for every kind; deterministic."""
    return {_file_name(kind): HEADER + _yaml(build(kind)) for kind in KINDS}


def _yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True)


def _ours(directory: Path) -> set[str]:
    return {path.name for path in directory.glob(f"{API_GROUP}_*.yaml")}


def write(directory: Path) -> list[Path]:
    """Write every CRD into ``directory`` and remove generated files of kinds that no longer exist."""
    directory.mkdir(parents=True, exist_ok=True)
    rendered = render_all()
    for extra in _ours(directory) - rendered.keys():
        (directory / extra).unlink()
    paths = []
    for name, text in sorted(rendered.items()):
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def check(directory: Path) -> list[str]:
    """Names of files in ``directory`` that are stale, missing or no longer generated; empty when up to date."""
    rendered = render_all()
    present = _ours(directory) if directory.is_dir() else set()
    problems = [f"{name} (extra)" for name in present - rendered.keys()]
    for name, text in rendered.items():
        if name not in present:
            problems.append(f"{name} (missing)")
        elif (directory / name).read_text(encoding="utf-8") != text:
            problems.append(f"{name} (stale)")
    return sorted(problems)
