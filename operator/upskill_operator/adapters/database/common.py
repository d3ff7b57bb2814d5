"""What the UpskillDatabase adapters share: the spec, deterministic names, tags and nested outputs.

Every AWS object of a database is named from the cluster identifier, itself a pure function of
(prefix, namespace, name) unless ``spec.clusterIdentifier`` is given, so a restarted operator
finds each object again by name. Every object carries ``spec.tags`` plus the ownership tags.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from upskill_operator.adapters.shared.naming import HASH_LENGTH, aws_name, pinned, rival_namespaces
from upskill_operator.models.database import DatabaseSpec
from upskill_operator.models.tags import managed_keys, tag_changes
from upskill_operator.reconcile.protocol import Naming, Target

__all__ = [
    "RDS_ID",
    "Names",
    "database_spec",
    "desired_tags",
    "names",
    "naming",
    "nested",
    "tag_plan",
]

RDS_ID = re.compile(r"[a-z](?!.*--)([a-z0-9-]*[a-z0-9])?")
"""RDS identifiers: a letter, then letters, digits and single hyphens, not ending with a hyphen."""

CLUSTER_MAX = 60
"""Derived cluster identifiers leave room for ``-NN`` instance suffixes within RDS's 63."""


def database_spec(target: Target) -> DatabaseSpec:
    if not isinstance(target.spec, DatabaseSpec):
        raise TypeError(f"database adapters need a DatabaseSpec, got {type(target.spec).__name__}")
    return target.spec


def _clean(part: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", part.lower())).strip("-")


def _suffixed(base: str, suffix: str, max_length: int) -> str:
    """``base + suffix``, with ``base`` shortened and hashed when the whole would be too long."""
    if len(base) + len(suffix) <= max_length:
        return base + suffix
    digest = hashlib.sha256(base.encode()).hexdigest()[:HASH_LENGTH]
    head = base[: max_length - len(suffix) - HASH_LENGTH - 1].rstrip("-")
    return f"{head}-{digest}{suffix}"


@dataclass(frozen=True)
class Names:
    """The AWS names of one database's objects."""

    cluster: str

    @property
    def subnet_group(self) -> str:
        return self.cluster

    @property
    def security_group(self) -> str:
        return f"{self.cluster}-db"

    @property
    def proxy(self) -> str:
        return self.cluster

    @property
    def proxy_endpoint(self) -> str:
        return _suffixed(self.cluster, "-ro", 63)

    @property
    def role(self) -> str:
        return _suffixed(self.cluster, "-proxy", 64)

    def instance(self, index: int) -> str:
        return _suffixed(self.cluster, f"-{index}", 63)

    def instance_index(self, identifier: str) -> int | None:
        """The index of one of our instance names, or None for a name we would not give."""
        head, _, tail = identifier.rpartition("-")
        return int(tail) if tail.isdigit() and self.instance(int(tail)) == identifier and head else None

    def final_snapshot(self, uid: str) -> str:
        """``<cluster>-final-<uid8>``: deterministic (a retry finds it) and unique per resource."""
        tag = _clean(uid)[:8].strip("-") or "0"
        return f"{self.cluster}-final-{tag}"


def names(target: Target, prefix: str) -> Names:
    """The names of every object of the database; Terminal when the spec renames an existing cluster.

    Every step names its objects from here, the first one (the DB subnet group) included, so a changed
    ``spec.clusterIdentifier`` is refused before any step creates objects under the new name.
    """
    cluster = database_spec(target).cluster_identifier or _derived(target, prefix)
    return Names(pinned("spec.clusterIdentifier", cluster, target.status.get("clusterIdentifier")))


def _derived(target: Target, prefix: str) -> str:
    """The cluster identifier when the spec names none: ``<prefix>-<namespace>-<name>``, cleaned for RDS."""
    parts = [_clean(p) for p in (prefix, target.namespace, target.name) if _clean(p)]
    if not parts or not parts[0][0].isalpha():
        parts.insert(0, "db")
    return aws_name("", "-".join(parts[:-1]), parts[-1], max_length=CLUSTER_MAX, allowed=RDS_ID, field="name")


def naming(target: Target, prefix: str, part: Callable[[Names], str]) -> Naming:
    """One object's name (``part`` of :class:`Names`), the name derived without ``spec.clusterIdentifier``,
    and the other namespaces that derive the same one, for the adoption scope (``Target.claim``)."""
    derived = Names(_derived(target, prefix))
    return Naming(part(names(target, prefix)), part(derived), rival_namespaces(target.namespace, _clean(target.name)))


def desired_tags(target: Target) -> dict[str, str]:
    return {**database_spec(target).tags, **target.ownership_tags}


def tag_plan(target: Target, present: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """(tags to set, keys to remove) that give one of the database's objects its :func:`desired_tags`."""
    return tag_changes(desired_tags(target), present, managed_keys(target.status))


def nested(outputs: Mapping[str, Any], key: str, **values: Any) -> dict[str, Any]:
    """A nested status object (``endpoints``, ``capacity``) with ``values`` merged into what earlier steps set."""
    return {**(outputs.get(key) or {}), **values}
