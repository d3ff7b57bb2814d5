"""The CloudWatch alarms of one resource, managed as one step (the set, as the instances step is).

Observe reads the namespace's alarms from the shared snapshot (one paged DescribeAlarms per namespace
and half resync, :mod:`upskill_operator.adapters.shared.alarm_snapshot`); a pass that finds anything to
do reads the resource's own prefix again before it decides, and a write makes the next pass read it
too, so no write is decided on a shared read. ListTagsForResource is called for an alarm not yet known
to be ours: DescribeAlarms carries no tags, and an alarm's tags are remembered once read (per operator
process, per alarm ARN), so a steady pass costs no read of its own. Only names this
resource's kinds can give count (another resource sharing the prefix is not read); of those, an
alarm tagged for another owner under a name the spec wants makes the step Terminal (ForeignOwner), an
untagged one is adopted under the usual rules (``spec.adopt``, the namespace's scope), and one we do
not want that someone else owns is left alone. A resource without ``spec.monitoring`` whose status lists
no alarms reads nothing (a deletion always reads): only a crash between a PutMetricAlarm and the status write,
followed by the spec dropping ``monitoring`` before the next pass, could leave alarms until the resource goes.

Each update makes one write, so a pass spends at most the engine's write budget: tag one alarm, put
one alarm (create, or put back a drifted one, comparing only the fields we set), or one DeleteAlarms
for every alarm of ours the spec dropped. Under ``deletionPolicy: Retain`` the alarms stay, like every
other object of the resource (the engine does not walk the steps then).

Status: ``alarms`` lists ``{name, metric, state}``; the ``AlarmsOK`` condition follows from it
(:func:`upskill_operator.status.status_patch`).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.adapters.shared.alarm_plan import (
    AlarmSource,
    Step,
    candidates,
    definitions,
    next_step,
)
from upskill_operator.adapters.shared.alarm_snapshot import AlarmSnapshot
from upskill_operator.adapters.shared.naming import rival_namespaces
from upskill_operator.aws.cloudwatch import CloudWatch, ObservedAlarm
from upskill_operator.models.monitoring import AlarmDefault, AlarmDefinition, AlarmOverride
from upskill_operator.models.tags import owner_of
from upskill_operator.reconcile.protocol import DeletionPolicy, Naming, Observation, Steps, Target

__all__ = ["AlarmsAdapter", "AlarmsObservation"]


@dataclass(frozen=True)
class AlarmsObservation(Observation):
    ours: tuple[ObservedAlarm, ...] = ()
    """The alarms of this resource (tagged for it, or untagged to adopt)."""
    steps: tuple[Step, ...] = field(default_factory=tuple)
    """The writes still to make, in order; update makes the first."""


class AlarmsAdapter(ABC):
    """Implements the reconcile ``Adapter`` protocol for a resource's alarm set; a kind says what to watch."""

    name = "alarms"
    owner_field = "spec.monitoring"
    defaults: Mapping[str, AlarmDefault]
    indexed: frozenset[str] = frozenset()
    """Kinds with one alarm per index (GSI, operation)."""

    def __init__(self, cloudwatch: CloudWatch, name_prefix: str, reads: AlarmSnapshot, max_age: float) -> None:
        self.cloudwatch = cloudwatch
        self.name_prefix = name_prefix
        self.reads = reads
        self.max_age = max_age
        """How old a shared read of the namespace's alarms may be (half the kind's resync)."""
        self._owners: dict[str, str] = {}
        """Alarm ARN -> owner tag value, for alarms read (or made) ours: tags are not re-read every pass."""
        self._lock = threading.Lock()

    @abstractmethod
    def monitoring(self, target: Target) -> tuple[Mapping[str, AlarmOverride], tuple[str, ...]] | None:
        """(overrides by kind, actions) from ``spec.monitoring``; None when it is absent (no alarms)."""

    @abstractmethod
    def sources(self, target: Target, steps: Steps) -> list[AlarmSource]:
        """The alarms the kind's defaults call for, on the objects the earlier steps observed."""

    def base(self, target: Target) -> str:
        return f"{self.name_prefix}-{target.namespace}-{target.name}"

    def wanted(self, target: Target, steps: Steps) -> bool:
        return self.monitoring(target) is not None

    def observe(self, target: Target, steps: Steps) -> AlarmsObservation:
        base = self.base(target)
        chosen = self.monitoring(target)
        if chosen is None and not target.deleting and not target.recorded.has_alarms:
            return AlarmsObservation(exists=False, up_to_date=True, outputs={"alarms": None})  # never had any
        wanted = [] if chosen is None or target.deleting else definitions(base, self.sources(target, steps), *chosen)
        space = f"{self.name_prefix}-{target.namespace}-"
        if not target.deleting:
            shared = self._observe(target, wanted, self.reads.alarms(space, base, self.max_age))
            if shared.up_to_date:
                return shared
        return self._observe(target, wanted, self.reads.alarms(space, base, self.max_age, fresh=True))

    def _observe(self, target: Target, wanted: list[AlarmDefinition], found: list[ObservedAlarm]) -> AlarmsObservation:
        base = self.base(target)
        slugs = [d.slug for kind, d in self.defaults.items() if kind not in self.indexed]
        indexed = [d.slug for kind, d in self.defaults.items() if kind in self.indexed]
        seen = {a.definition.name: a for a in found}
        names = set(candidates(base, list(seen), slugs, indexed)) | ({d.name for d in wanted} & set(seen))
        ours: dict[str, ObservedAlarm] = {}
        untagged: dict[str, ObservedAlarm] = {}
        foreign: list[str] = []
        wanted_names = {d.name for d in wanted}
        for name in sorted(names):
            alarm = seen[name]
            owner = self._owner(alarm)
            if target.is_ours(owner):
                ours[name] = alarm
            elif owner is None:
                untagged[name] = alarm
            elif name in wanted_names:
                foreign.append(owner)
        self._forget_missing(base, seen)
        exists = bool(ours or untagged or foreign)
        if not exists:
            return AlarmsObservation(exists=False, up_to_date=not wanted, outputs={"alarms": None})
        owner = foreign[0] if foreign else (None if untagged else target.owner)
        diff, planned = next_step(wanted, ours, untagged)
        mine = sorted({**ours, **untagged}.values(), key=lambda a: a.definition.name)
        return AlarmsObservation(
            exists=True,
            up_to_date=not diff,
            diff=diff,
            owner=owner,
            naming=Naming(base, base, rival_namespaces(target.namespace, target.name)),
            outputs={"alarms": [_status(a) for a in mine]},
            ours=tuple(mine),
            steps=tuple(planned),
        )

    def create(self, target: Target, steps: Steps) -> None:
        chosen = self.monitoring(target)
        if chosen is None:
            return
        wanted = definitions(self.base(target), self.sources(target, steps), *chosen)
        if wanted:
            with self._writing(target):
                self.cloudwatch.put(wanted[0], target.ownership_tags)

    def update(self, target: Target, steps: Steps, observed: AlarmsObservation) -> None:
        if not observed.steps:
            return
        step = observed.steps[0]
        with self._writing(target):
            if step.verb == "tag":
                self.cloudwatch.tag(step.arn, target.ownership_tags)
                self._remember(step.arn, target.owner)
            elif step.verb in ("create", "put") and step.alarm is not None:
                self.cloudwatch.put(step.alarm, target.ownership_tags if step.verb == "create" else None)
            elif step.verb == "delete":
                self.cloudwatch.delete(step.names)

    def delete(self, target: Target, steps: Steps, observed: AlarmsObservation, policy: DeletionPolicy) -> None:
        """Delete every alarm of ours (DeleteAlarms, 100 names a call)."""
        with self._writing(target):
            self.cloudwatch.delete(a.definition.name for a in observed.ours)

    @contextmanager
    def _writing(self, target: Target) -> Iterator[None]:
        """A write, after which (done or failed) no read made before it stands for this resource."""
        try:
            yield
        finally:
            self.reads.touched(self.base(target))

    def _owner(self, alarm: ObservedAlarm) -> str | None:
        with self._lock:
            known = self._owners.get(alarm.arn)
        if known is not None:
            return known
        owner = owner_of(self.cloudwatch.tags(alarm.arn))
        if owner is not None:
            self._remember(alarm.arn, owner)
        return owner

    def _remember(self, arn: str, owner: str) -> None:
        with self._lock:
            self._owners[arn] = owner

    def _forget_missing(self, base: str, seen: Mapping[str, ObservedAlarm]) -> None:
        """Drop remembered owners of this resource's alarms that are gone (deleted, by us or anyone)."""
        present = {a.arn for a in seen.values()}
        marker = f":alarm:{base}-"
        with self._lock:
            for arn in [a for a in self._owners if marker in a and a not in present]:
                del self._owners[arn]


def _status(alarm: ObservedAlarm) -> dict[str, Any]:
    return {"name": alarm.definition.name, "metric": alarm.definition.metric, "state": alarm.state}
