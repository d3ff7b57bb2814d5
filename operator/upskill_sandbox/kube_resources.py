"""What the emulated cluster serves: built-in resources, CRD-registered resources, and discovery.

Discovery documents are shaped like the real server's legacy discovery (``APIVersions``,
``APIGroupList``, ``APIGroup``, ``APIResourceList``), which kopf, kubectl and the ``kubernetes``
client all understand; aggregated discovery is not offered, and clients fall back from it silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import attrs
import jsonschema

from upskill_sandbox import kube_cel, kube_schema
from upskill_sandbox.kube_errors import Cause

__all__ = ["BUILTINS", "BadCrdError", "Registry", "ResourceDef", "VersionSchema", "resource_from_crd"]

_ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@attrs.frozen
class VersionSchema:
    """One CRD version's ``openAPIV3Schema``, compiled for defaulting, pruning and validation."""

    raw: dict[str, Any]
    validator: jsonschema.protocols.Validator
    rules: kube_cel.Rules | None = attrs.field(default=None, eq=False)  # its CEL rules, compiled once

    def prepare(self, obj: dict[str, Any]) -> list[str]:
        """Default then prune, in place; returns the paths of pruned unknown fields."""
        kube_schema.apply_defaults(obj, self.raw, root=True)
        pruned: list[str] = []
        kube_schema.prune(obj, self.raw, [], pruned, root=True)
        return pruned

    def causes(self, obj: dict[str, Any], old: dict[str, Any] | None) -> list[Cause]:
        """OpenAPI failures; if there are none, CEL rule failures (transition rules need ``old``)."""
        causes = kube_schema.schema_causes(self.validator, obj)
        if causes or self.rules is None:
            return causes
        return self.rules.causes(obj, old, has_old=old is not None)


@attrs.frozen
class ResourceDef:
    """A served resource. Objects are stored once per (group, plural), whatever version is used."""

    group: str
    plural: str
    kind: str
    namespaced: bool
    versions: tuple[str, ...]  # served versions, preferred first
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = _ALL_VERBS
    status_subresource: bool = False
    has_generation: bool = False
    schemas: dict[str, VersionSchema] = attrs.field(factory=dict)  # custom resources only
    printer_columns: dict[str, list[dict[str, Any]]] = attrs.field(factory=dict)  # by version
    crd_name: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.group, self.plural

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    def qualified_kind(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind

    def discovery_entries(self) -> list[dict[str, Any]]:
        """This resource (and its ``/status``) as ``APIResourceList.resources`` entries."""
        entries: list[dict[str, Any]] = [
            {
                "name": self.plural,
                "singularName": self.singular or self.kind.lower(),
                "namespaced": self.namespaced,
                "kind": self.kind,
                "verbs": list(self.verbs),
            }
        ]
        if self.short_names:
            entries[0]["shortNames"] = list(self.short_names)
        if self.categories:
            entries[0]["categories"] = list(self.categories)
        if self.status_subresource:
            entries.append(
                {
                    "name": f"{self.plural}/status",
                    "singularName": "",
                    "namespaced": self.namespaced,
                    "kind": self.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        return entries


def _builtin(group: str, plural: str, kind: str, short: tuple[str, ...] = (), **extra: Any) -> ResourceDef:
    return ResourceDef(
        group=group,
        plural=plural,
        kind=kind,
        namespaced=extra.pop("namespaced", True),
        versions=(extra.pop("version", "v1"),),
        singular=kind.lower(),
        short_names=short,
        **extra,
    )


BUILTINS: tuple[ResourceDef, ...] = (
    _builtin(
        "",
        "namespaces",
        "Namespace",
        ("ns",),
        namespaced=False,
        status_subresource=True,
        verbs=tuple(verb for verb in _ALL_VERBS if verb != "deletecollection"),
    ),
    _builtin("", "configmaps", "ConfigMap", ("cm",)),
    _builtin("", "secrets", "Secret"),
    _builtin("", "events", "Event", ("ev",)),
    _builtin("", "serviceaccounts", "ServiceAccount", ("sa",)),
    _builtin(
        "apps",
        "deployments",
        "Deployment",
        ("deploy",),
        status_subresource=True,
        has_generation=True,
        categories=("all",),
    ),
    _builtin("coordination.k8s.io", "leases", "Lease"),
    _builtin(
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        ("crd", "crds"),
        namespaced=False,
        status_subresource=True,
        has_generation=True,
        categories=("api-extensions",),
    ),
)


class BadCrdError(ValueError):
    """The posted CRD is unusable; carries the field causes for a 422 ``Invalid`` answer."""

    def __init__(self, causes: list[Cause]) -> None:
        super().__init__("; ".join(cause.render() for cause in causes))
        self.causes = causes


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Kubernetes version ordering: GA before beta before alpha, higher numbers first, others last."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (3, 0, 0, version)
    major, stage, minor = match.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -int(major), -int(minor or 0), version)


def _schema_of(version: dict[str, Any], index: int) -> VersionSchema | None:
    raw = (version.get("schema") or {}).get("openAPIV3Schema")
    if raw is None:
        return None
    where = f"spec.versions[{index}].schema.openAPIV3Schema"
    try:
        validator = kube_schema.make_validator(raw)
        rules = kube_cel.compile_rules(raw, where)
    except kube_schema.BadSchemaError as exc:
        raise BadCrdError([Cause(where, f"Invalid value: {exc}")]) from exc
    return VersionSchema(raw=raw, validator=validator, rules=rules)


def _crd_basics(crd: dict[str, Any]) -> list[Cause]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    causes = [
        Cause(f"spec.{field}", "Required value", "FieldValueRequired")
        for field, value in (
            ("group", spec.get("group")),
            ("names.plural", names.get("plural")),
            ("names.kind", names.get("kind")),
            ("versions", spec.get("versions")),
        )
        if not value
    ]
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(
            Cause(
                "spec.scope",
                f'Unsupported value: "{spec.get("scope")}": supported values: "Cluster", "Namespaced"',
                "FieldValueNotSupported",
            )
        )
    expected = f"{names.get('plural')}.{spec.get('group')}"
    if not causes and crd.get("metadata", {}).get("name") != expected:
        causes.append(
            Cause(
                "metadata.name",
                f'Invalid value: "{crd.get("metadata", {}).get("name")}": must be spec.names.plural+"."+spec.group',
            )
        )
    storage = [v for v in spec.get("versions") or [] if v.get("storage")]
    if spec.get("versions") and len(storage) != 1:
        causes.append(Cause("spec.versions", "Invalid value: must have exactly one version marked as storage version"))
    return causes


def resource_from_crd(crd: dict[str, Any]) -> ResourceDef:
    """Build the served resource of a CustomResourceDefinition, or raise :class:`BadCrdError`."""
    if causes := _crd_basics(crd):
        raise BadCrdError(causes)
    spec, names = crd["spec"], crd["spec"]["names"]
    served = [v for v in spec["versions"] if v.get("served", True)]
    schemas = {v["name"]: schema for i, v in enumerate(spec["versions"]) if (schema := _schema_of(v, i))}
    return ResourceDef(
        group=spec["group"],
        plural=names["plural"],
        kind=names["kind"],
        namespaced=spec["scope"] == "Namespaced",
        versions=tuple(sorted((v["name"] for v in served), key=version_priority)),
        singular=names.get("singular") or names["kind"].lower(),
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        status_subresource=any("status" in (v.get("subresources") or {}) for v in served),
        has_generation=True,
        schemas=schemas,
        crd_name=crd["metadata"]["name"],
        printer_columns={v["name"]: list(v.get("additionalPrinterColumns") or []) for v in served},
    )


class Registry:
    """The served resources, by storage key; not thread-safe (used only on the server's loop)."""

    def __init__(self) -> None:
        self._defs: dict[tuple[str, str], ResourceDef] = {rdef.key: rdef for rdef in BUILTINS}

    def __iter__(self) -> Iterator[ResourceDef]:
        return iter(list(self._defs.values()))

    def add(self, rdef: ResourceDef) -> None:
        self._defs[rdef.key] = rdef

    def get(self, key: tuple[str, str]) -> ResourceDef:
        return self._defs[key]

    def find(self, key: tuple[str, str]) -> ResourceDef | None:
        return self._defs.get(key)

    def remove(self, key: tuple[str, str]) -> ResourceDef | None:
        return self._defs.pop(key, None)

    def lookup(self, group: str, version: str, plural: str) -> ResourceDef | None:
        rdef = self._defs.get((group, plural))
        return rdef if rdef is not None and version in rdef.versions else None

    def by_kind(self, api_version: str, kind: str) -> ResourceDef | None:
        group, _, version = api_version.rpartition("/")
        return next(
            (r for r in self._defs.values() if r.group == group and r.kind == kind and version in r.versions), None
        )

    def group_versions(self) -> dict[str, list[str]]:
        """Every served API group (core excluded) and its versions, preferred first."""
        groups: dict[str, set[str]] = {}
        for rdef in self._defs.values():
            if rdef.group:
                groups.setdefault(rdef.group, set()).update(rdef.versions)
        return {group: sorted(versions, key=version_priority) for group, versions in sorted(groups.items())}

    def group_document(self, group: str) -> dict[str, Any] | None:
        versions = self.group_versions().get(group)
        if not versions:
            return None
        listed = [{"groupVersion": f"{group}/{version}", "version": version} for version in versions]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": group,
            "versions": listed,
            "preferredVersion": listed[0],
        }

    def groups_document(self) -> dict[str, Any]:
        documents = [self.group_document(group) for group in self.group_versions()]
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [{k: v for k, v in doc.items() if k not in ("kind", "apiVersion")} for doc in documents if doc],
        }

    def resources_document(self, group: str, version: str) -> dict[str, Any] | None:
        served = [rdef for rdef in self._defs.values() if rdef.group == group and version in rdef.versions]
        if not served:
            return None
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": [entry for rdef in served for entry in rdef.discovery_entries()],
        }
