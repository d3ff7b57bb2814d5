"""The contract between the generic engine and the per-kind AWS adapters.

Adapters report facts (:class:`Observation`); the engine decides what to do. This
mirrors Crossplane's ExternalClient and ACK's resource manager: observe must not
mutate, create/update/delete must be idempotent and must not wait.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal, Protocol

from upskill_operator.errors import TerminalError
from upskill_operator.models.common import Model
from upskill_operator.models.tags import OWNER_TAG, UID_TAG
from upskill_operator.reconcile.events import NO_EVENTS, EventSink

__all__ = [
    "OWNER_TAG",
    "RECREATE_ANNOTATION",
    "UID_TAG",
    "Adapter",
    "Claim",
    "DeletionPolicy",
    "Gone",
    "Naming",
    "Observation",
    "Target",
]

RECREATE_ANNOTATION = "upskill.io/recreate-empty"
"""Approves re-creating, empty, a data-bearing object that is gone: its value is ``<object>@<since>``."""

DeletionPolicy = Literal["Retain", "Delete", "Snapshot"]


class Claim(enum.Enum):
    """What a resource may do with an AWS object it found under its name (see :meth:`Target.claim`)."""

    OURS = "ours"
    """Tagged for this resource (the uid may differ: a namespace rebuilt from Git keeps its objects)."""
    ADOPT = "adopt"
    """Untagged, inside the namespace's adoption scope, and ``spec.adopt`` is true: tag it first."""
    FOREIGN = "foreign"
    """Tagged for another resource: never touched."""
    ADOPTION_REQUIRED = "adoption required"
    """Untagged and inside the scope, but ``spec.adopt`` is not set."""
    OUT_OF_SCOPE = "out of scope"
    """Untagged and outside the namespace's adoption scope: never touched, whatever the spec says."""


@dataclass(frozen=True)
class Naming:
    """How an observed object is named, as the adoption scope needs it."""

    name: str
    """The object's AWS name (table name, secret name, cluster identifier, ...)."""
    derived: str
    """The name this resource gives that object when its spec names none (``<prefix>-<namespace>-<name>``)."""
    rivals: tuple[str, ...] = ()
    """Other namespaces whose resources derive the same name (``-`` joins are ambiguous), see
    :func:`upskill_operator.adapters.shared.naming.rival_namespaces`."""


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
    adopt_grants: tuple[str, ...] = ()
    """Globs of AWS names an administrator lets this namespace adopt (``UPSKILL_ADOPT_SCOPES``); the engine
    sets them from the operator's settings, never from the resource."""

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

    def in_scope(self, naming: Naming | None) -> bool:
        """The adoption scope of this resource's namespace: the one rule for untagged objects.

        An untagged object is inside it when its name is exactly the name this resource derives and no
        other namespace derives that name too, or when it matches one of the administrator's grants for
        this namespace. Names a spec gives (``spec.tableName``, ``spec.secretName``,
        ``spec.clusterIdentifier``) are outside it unless granted: a namespace owner can type any name.
        """
        if naming is None:
            return False
        if naming.name == naming.derived and not naming.rivals:
            return True
        return any(fnmatchcase(naming.name, grant) for grant in self.adopt_grants)

    def is_ours(self, owner: str | None) -> bool:
        """Whether an ownership tag (or annotation) value names this resource: the one ownership predicate."""
        return owner == self.owner

    def claim(self, owner: str | None, naming: Naming | None) -> Claim:
        """What this resource may do with an object tagged ``owner`` (None: untagged) and named ``naming``."""
        if self.is_ours(owner):
            return Claim.OURS
        if owner is not None:
            return Claim.FOREIGN
        if not self.in_scope(naming):
            return Claim.OUT_OF_SCOPE
        return Claim.ADOPT if self.adopt else Claim.ADOPTION_REQUIRED

    def check_claim(self, field: str, owner: str | None, naming: Naming | None) -> Claim:
        """:meth:`claim`, raising a TerminalError that names ``field`` and the rule unless it is OURS or ADOPT."""
        claim = self.claim(owner, naming)
        if claim is Claim.FOREIGN:
            raise TerminalError(
                f"{field}: the AWS object is owned by {owner!r}, not {self.owner!r}; "
                "refusing to touch it (choose another name)",
                reason="ForeignOwner",
            )
        if claim is Claim.OUT_OF_SCOPE:
            raise TerminalError(self._out_of_scope(field, naming), reason="OutsideAdoptionScope")
        if claim is Claim.ADOPTION_REQUIRED:
            raise TerminalError(
                f"{field}: an AWS object with this name exists without the upskill.io/owner tag; "
                "set spec.adopt: true to manage it",
                reason="AdoptionRequired",
            )
        return claim

    def _out_of_scope(self, field: str, naming: Naming | None) -> str:
        if naming is None:
            return (
                f"{field}: an AWS object with this name exists without the upskill.io/owner tag; refusing to touch it"
            )
        if naming.name == naming.derived:
            why = f"namespace {naming.rivals[0]!r} derives the same name, so"
        else:
            why = f"only the name this resource derives itself ({naming.derived!r}) is adoptable, so"
        return (
            f"{field}: {naming.name!r} exists without the upskill.io/owner tag and is outside the adoption scope "
            f"of namespace {self.namespace!r}: {why} adopting it needs an administrator's grant "
            "(UPSKILL_ADOPT_SCOPES); nothing was tagged, read or changed"
        )

    def owns(self, owner: str | None, naming: Naming | None) -> bool:
        """True when the object is ours, or ours to adopt in this pass: only then is anything of it published."""
        return self.claim(owner, naming) in (Claim.OURS, Claim.ADOPT)


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
    naming: Naming | None = None
    """The object's name and the name this resource derives for it; without it an untagged object is
    never adopted."""
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
