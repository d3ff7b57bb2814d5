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
from typing import Any, Literal, Protocol, TypeVar, cast

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
    "Recorded",
    "RecordedField",
    "Steps",
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

    def claim(self, owner: str | None, naming: Naming | None, made_here: bool = False) -> Claim:
        """What this resource may do with an object tagged ``owner`` (None: untagged) and named ``naming``.

        ``made_here``: the untagged object is provably what this resource's own create makes with a call that
        takes no tags (a table restore of the very source the spec names, tagged right after). Under the
        name this resource derives it is claimed as if ``spec.adopt`` were set, even when another namespace
        derives that name too (the proof is the source, not the name), so a crash between the two calls
        never strands it. Under any other name nothing changes."""
        if self.is_ours(owner):
            return Claim.OURS
        if owner is not None:
            return Claim.FOREIGN
        if made_here and naming is not None and naming.name == naming.derived:
            return Claim.ADOPT  # a rival namespace deriving the name did not restore our source into it
        if not self.in_scope(naming):
            return Claim.OUT_OF_SCOPE
        return Claim.ADOPT if self.adopt else Claim.ADOPTION_REQUIRED

    def check_claim(self, field: str, owner: str | None, naming: Naming | None, made_here: bool = False) -> Claim:
        """:meth:`claim`, raising a TerminalError that names ``field`` and the rule unless it is OURS or ADOPT."""
        claim = self.claim(owner, naming, made_here)
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

    @property
    def recorded(self) -> Recorded:
        """What status remembers between passes, read through one typed view."""
        return Recorded(self.status)

    def owns(self, owner: str | None, naming: Naming | None, made_here: bool = False) -> bool:
        """True when the object is ours, or ours to adopt in this pass: only then is anything of it published."""
        return self.claim(owner, naming, made_here) in (Claim.OURS, Claim.ADOPT)


RecordedField = Literal[
    "clusterIdentifier",
    "tableName",
    "secretName",
    "syncedSecretName",
    "clusterArn",
    "arn",
    "vpcId",
    "securityGroupId",
    "syncedVersionId",
    "syncedTime",
    "restartedVersionId",
    "rotationRequestedTime",
    "rotationRequestedVersion",
    "rotationRequest",
]
"""The status fields a pass may read back (wire names); mypy refuses any other."""


@dataclass(frozen=True)
class Recorded:
    """The few status fields a pass reads back, as memory AWS cannot give again: everything else in
    status is output only, and steps hand data to each other through :class:`Steps`.

    What remains, and why:

    - names fixed at creation (``clusterIdentifier``, ``tableName``, ``secretName``,
      ``syncedSecretName``): a renamed spec is refused, or the former Secret cleaned, rather than a
      second object made under the new name;
    - ARNs as proof that an object existed (``clusterArn``, ``arn``): its loss is reported instead
      of re-created empty, and a proxy access request waits until status shows the ARN it names;
    - ``vpcId`` and ``securityGroupId``: where to find a group this operator made once the spec
      names its own groups, so that teardown still removes it;
    - what was delivered and asked, which AWS does not keep (``syncedVersionId``, ``syncedTime``,
      ``restartedVersionId``, the rotation request fields): a rotation is never asked twice, a
      rollout never repeated;
    - ``managedTagKeys``: the record of the tag keys we set, so that only those are ever removed;
    - ``dataObjectGone``: the loss record (:mod:`.gone`);
    - ``restoredFrom``: the source a cluster was restored from (AWS keeps no such link).
    - whether ``alarms`` lists any: a resource without ``spec.monitoring`` that never had alarms reads no
      CloudWatch at all.
    """

    status: Mapping[str, Any]

    def text(self, key: RecordedField) -> str | None:
        """A recorded name, identifier, version or time; None when status holds none."""
        value = self.status.get(key)
        return str(value) if value else None

    @property
    def managed_tag_keys(self) -> frozenset[str]:
        return frozenset(str(k) for k in self.status.get("managedTagKeys") or ())

    @property
    def restored_from(self) -> Mapping[str, Any] | None:
        """``status.restoredFrom``: where a restored cluster's data came from, which AWS does not keep."""
        record = self.status.get("restoredFrom")
        return record if isinstance(record, dict) else None

    @property
    def has_alarms(self) -> bool:
        """``status.alarms`` lists CloudWatch alarms: a spec without ``monitoring`` must still look for them."""
        return bool(self.status.get("alarms"))

    @property
    def gone(self) -> Mapping[str, Any] | None:
        """``status.dataObjectGone``: the loss record of a data-bearing object (:mod:`.gone`)."""
        record = self.status.get("dataObjectGone")
        return record if isinstance(record, dict) else None


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
    made_here: bool = False
    """Untagged, and provably what this resource's own create makes untagged (see :meth:`Target.claim`)."""
    conflicts: tuple[str, ...] = ()
    """Differences AWS cannot apply in place (immutable fields): Terminal, never written."""
    outputs: Mapping[str, Any] = field(default_factory=dict)
    """Status fields (wire names) published from this object, e.g. ``arn``. The engine publishes them
    only when the object is ours or ours to adopt this pass (:meth:`Target.owns`), or absent; a dict
    value merges into what earlier steps published under the same key (``endpoints``)."""
    pinned: Mapping[str, Any] = field(default_factory=dict)
    """Status fields published whatever the claim: a name fixed once (``clusterIdentifier``)."""
    managed_tags: frozenset[str] | None = None
    """For an object that carries the spec's tags: the keys this pass manages on it (wanted, plus set
    before and still to remove). The engine unions them into ``status.managedTagKeys``; None: untagged."""
    gone: Gone | None = None
    """With ``exists=False``: the object held data, status records that it existed, and it is gone. The
    engine does not re-create it (empty) unless the re-creation is approved."""

    @staticmethod
    def absent() -> Observation:
        return Observation(exists=False, up_to_date=False)


ObservationT = TypeVar("ObservationT", bound=Observation)


class Steps:
    """What the earlier steps of this pass observed: the typed hand-off between steps.

    A step reads an earlier step's facts by that step's observation class (``steps.get_step(RoleObservation)``
    returns a ``RoleObservation`` or None), so what passes between steps is typed and checked by mypy,
    and a step reads only what an earlier step of this pass saw, never a value remembered in status.
    Each adapter declares its own observation class, so the class is the key: one entry per step.
    There is no read by wire name: the status fields published so far (:attr:`published`) are the
    engine's to collect, and what a read cadence keys its memory on.
    """

    def __init__(self) -> None:
        self._seen: dict[type[Observation], Observation] = {}
        self._published: dict[str, Any] = {}

    def get_step(self, kind: type[ObservationT]) -> ObservationT | None:
        """The observation an earlier step of this pass reported with class ``kind``, if any."""
        return cast("ObservationT | None", self._seen.get(kind))

    def record(self, observed: Observation | None, published: Mapping[str, Any]) -> None:
        """Keep one step's observation (None: not ours, so later steps read nothing of it) and the
        fields the engine published from it."""
        if observed is not None:
            self._seen[type(observed)] = observed
        for key, value in published.items():
            before = self._published.get(key)
            merged = {**before, **value} if isinstance(before, dict) and isinstance(value, dict) else value
            self._published[key] = merged

    @property
    def published(self) -> dict[str, Any]:
        return dict(self._published)


class Adapter(Protocol[ObservationT]):
    """One AWS (or Kubernetes) object kind that a custom resource manages, observed as an ``ObservationT``.

    The engine hands each adapter back its own observation in ``update`` and ``delete``: no downcast.
    """

    name: str
    """A short step name for status messages: ``table``, ``cluster``, ``proxy``."""

    @property
    def owner_field(self) -> str | None:
        """The spec field that names the object (``spec.tableName``), when it carries ownership tags
        the engine must check; None for objects without them. Refusals of a foreign object name it."""

    def wanted(self, target: Target, steps: Steps) -> bool:
        """Whether the spec asks for this object now. When it does not, the engine creates nothing and
        deletes one of ours that exists (a disabled proxy, say); one not ours is left alone."""

    def observe(self, target: Target, steps: Steps) -> ObservationT: ...

    def create(self, target: Target, steps: Steps) -> None: ...

    def update(self, target: Target, steps: Steps, observed: ObservationT) -> None: ...

    def delete(self, target: Target, steps: Steps, observed: ObservationT, policy: DeletionPolicy) -> None: ...
