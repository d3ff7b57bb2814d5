"""The contract between the generic engine and the per-kind AWS adapters.

Adapters report facts (:class:`Observation`); the engine decides what to do. This
mirrors Crossplane's ExternalClient and ACK's resource manager: observe must not
mutate, create/update/delete must be idempotent and must not wait.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from upskill_operator.models.common import Model
from upskill_operator.reconcile.events import NO_EVENTS, EventSink

__all__ = ["OWNER_TAG", "RECREATE_ANNOTATION", "UID_TAG", "Adapter", "DeletionPolicy", "Gone", "Observation", "Target"]

OWNER_TAG = "upskill.io/owner"
UID_TAG = "upskill.io/uid"
RECREATE_ANNOTATION = "upskill.io/recreate-empty"
"""Approves re-creating, empty, a data-bearing object that is gone: its value is ``<object>@<since>``."""

DeletionPolicy = Literal["Retain", "Delete", "Snapshot"]


@dataclass(frozen=True)
class Target:
    """One custom resource, as the engine sees it: identity, validated spec and last status."""

    kind: str
    namespace: str
    name: str
    uid: str
    generation: int
    spec: Model
    status: Mapping[str, Any] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    """The resource's metadata.annotations (requests such as ``upskill.io/rotate``)."""
    deleting: bool = False
    """metadata.deletionTimestamp is set: observe must not wait for inputs only a sync needs."""
    events: EventSink = field(default=NO_EVENTS, compare=False, repr=False)
    """Where the engine and the adapters report what they changed, as Kubernetes Events of this resource."""

    @property
    def owner(self) -> str:
        """The value of the ownership tag on every AWS object this resource manages."""
        return f"{self.namespace}/{self.name}"

    @property
    def ownership_tags(self) -> dict[str, str]:
        return {OWNER_TAG: self.owner, UID_TAG: self.uid}

    @property
    def deletion_policy(self) -> DeletionPolicy:
        policy: DeletionPolicy = getattr(self.spec, "deletion_policy", "Retain")
        return policy

    @property
    def deletion_protected(self) -> bool:
        return bool(getattr(self.spec, "deletion_protection", False))

    @property
    def adopt(self) -> bool:
        return bool(getattr(self.spec, "adopt", False))


@dataclass(frozen=True)
class Gone:
    """A data-bearing object that status records as existing, absent from AWS now: facts for the engine."""

    what: str
    """The kind of object, for the message: ``DB cluster``, ``DynamoDB table``, ``secret``."""
    name: str
    """Its AWS name (what a re-creation approval names)."""
    remains: str
    """What is left of its data and how to restore it: the latest snapshot or backup, or that none exists."""


@dataclass(frozen=True)
class Observation:
    """What an adapter saw in AWS. Facts only; the engine decides."""

    exists: bool
    up_to_date: bool = True
    """With ``exists=False``: True means the spec wants no such object (nothing to create)."""
    diff: tuple[str, ...] = ()
    """Wire paths that differ from the spec, e.g. ``spec.ttlAttribute``."""
    late_initialized: tuple[str, ...] = ()
    """Fields the spec left unset that AWS defaulted."""
    pending: str | None = None
    """An AWS transitional state (CREATING, MODIFYING, ...): wait, do not write. With ``exists=False``
    during deletion: the object is gone but what its deletion must leave behind (a final snapshot)
    is not ready yet, so the finalizer stays."""
    owner: str | None = None
    """The object's ownership tag, or None when it carries none."""
    conflicts: tuple[str, ...] = ()
    """Differences AWS cannot apply in place (immutable fields): Terminal, never written."""
    outputs: Mapping[str, Any] = field(default_factory=dict)
    """Status fields (wire names) published from this object, e.g. ``arn``."""
    unwanted: bool = False
    """The object exists and is ours, but the spec no longer asks for it (a disabled proxy, say):
    the engine deletes it through ``Adapter.delete`` as part of a sync."""
    gone: Gone | None = None
    """With ``exists=False``: the object held data, status records that it existed, and it is gone. The
    engine does not re-create it (empty) unless the re-creation is approved."""

    @staticmethod
    def absent() -> Observation:
        return Observation(exists=False, up_to_date=False)


class Adapter(Protocol):
    """One AWS (or Kubernetes) object kind that a custom resource manages."""

    name: str
    """A short step name for status messages: ``table``, ``cluster``, ``proxy``."""

    @property
    def owner_field(self) -> str | None:
        """The spec field that names the object (``spec.tableName``), when it carries ownership tags
        the engine must check; None for objects without them. Refusals of a foreign object name it."""

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation: ...

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None: ...

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None: ...

    def delete(
        self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy
    ) -> None: ...
