"""The cluster's DB instances: one writer and ``readReplicas`` readers of one class.

Instances are named ``<cluster>-<n>``; a new one takes the lowest free number. Observe is one
DescribeDBInstances filtered by cluster (the writer flags come from the cluster step). Each update
makes at most one change that leaves an instance busy, so every pass shows progress and the
engine waits between them: create the next missing instance, delete the highest-numbered extra
reader (never the writer), or change one instance's class (readers first). ``ApplyImmediately``
is always sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from upskill_operator.adapters.database.common import (
    Names,
    database_spec,
    desired_tags,
    names,
    naming,
    nested,
    tag_plan,
)
from upskill_operator.aws.rds import Rds
from upskill_operator.models.tags import owner_of, tag_dict
from upskill_operator.reconcile.protocol import DeletionPolicy, Naming, Observation, Target

__all__ = ["SERVERLESS_CLASS", "InstancesAdapter", "InstancesObservation", "Member", "plan_members"]

SERVERLESS_CLASS = "db.serverless"


@dataclass(frozen=True)
class Member:
    identifier: str
    instance_class: str
    status: str
    writer: bool
    arn: str
    tags: Mapping[str, str]


@dataclass(frozen=True)
class InstancesObservation(Observation):
    members: tuple[Member, ...] = ()
    action: tuple[str, str] | None = None
    """("create" | "delete" | "modify", instance identifier) for the next update."""
    tags: tuple[tuple[str, Mapping[str, str], tuple[str, ...]], ...] = ()
    """(arn, tags to set, keys to remove) per member."""


def _order(n: Names, member: Member) -> tuple[int, str]:
    index = n.instance_index(member.identifier)
    return (index if index is not None else 1_000_000, member.identifier)


def plan_members(
    n: Names, members: Sequence[Member], count: int, instance_class: str
) -> tuple[tuple[str, ...], tuple[str, str] | None]:
    """(diff, next action) to reach ``count`` instances of ``instance_class``. Pure."""
    have = len(members)
    if have < count:
        taken = {m.identifier for m in members}
        free = next(i for i in range(count + have + 1) if n.instance(i) not in taken)
        return (f"spec.capacity (instances: {have} of {count})",), ("create", n.instance(free))
    readers = sorted((m for m in members if not m.writer), key=lambda m: _order(n, m))
    if have > count and readers:
        return (f"spec.capacity (instances: {have}, {count} wanted)",), ("delete", readers[-1].identifier)
    for member in [*readers, *(m for m in members if m.writer)]:
        if member.instance_class != instance_class:
            path = f"instances[{member.identifier}].instanceClass ({member.instance_class} -> {instance_class})"
            return (path,), ("modify", member.identifier)
    return (), None


class InstancesAdapter:
    """Implements the reconcile ``Adapter`` protocol for the set of cluster instances."""

    name = "instances"
    owner_field = "spec.clusterIdentifier"

    def __init__(self, rds: Rds, name_prefix: str) -> None:
        self.rds = rds
        self.name_prefix = name_prefix

    @staticmethod
    def wanted(target: Target) -> tuple[int, str]:
        capacity = database_spec(target).capacity
        if capacity.provisioned is not None:
            return 1 + capacity.provisioned.read_replicas, capacity.provisioned.instance_class
        return 1 + capacity.read_replicas, SERVERLESS_CLASS

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        n = names(target, self.name_prefix)
        writers = {str(m[0]): bool(m[1]) for m in outputs.get("clusterMembers") or ()}
        members = tuple(
            Member(
                identifier=raw["DBInstanceIdentifier"],
                instance_class=raw.get("DBInstanceClass", ""),
                status=raw.get("DBInstanceStatus", "available"),
                writer=writers.get(raw["DBInstanceIdentifier"], False),
                arn=raw.get("DBInstanceArn", ""),
                tags=tag_dict(raw.get("TagList")),
            )
            for raw in self.rds.list_instances(n.cluster)
        )
        members = tuple(sorted(members, key=lambda m: _order(n, m)))
        if not members:
            return Observation.absent()
        owners = {owner_of(m.tags) for m in members}
        foreign = sorted(o for o in owners if o is not None and not target.is_ours(o))
        owner = foreign[0] if foreign else (None if None in owners else target.owner)
        named = naming(target, self.name_prefix, lambda n: n.cluster)
        if outputs.get("clusterArn"):  # the cluster step found the cluster ours (or ours to adopt): so are its members
            named = Naming(n.cluster, n.cluster)
        busy = next((m for m in members if m.status != "available"), None)
        count, instance_class = self.wanted(target)
        diff, action = plan_members(n, members, count, instance_class)
        tags = tuple((m.arn, *tag_plan(target, m.tags)) for m in members)
        tags = tuple(t for t in tags if t[1] or t[2])
        if tags:
            diff += ("tags",)
        return InstancesObservation(
            exists=True,
            up_to_date=not diff,
            diff=diff,
            pending=f"instance {busy.identifier} is {busy.status}" if busy else None,
            owner=owner,
            naming=named,
            outputs=_outputs(members, outputs) if target.owns(owner, named) else {},
            members=members,
            action=action,
            tags=tags,
        )

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None:
        n = names(target, self.name_prefix)
        self._create(target, n.instance(0))

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None:
        if not isinstance(observed, InstancesObservation):
            return
        for arn, to_set, to_remove in observed.tags:
            self.rds.remove_tags(arn, to_remove)
            self.rds.add_tags(arn, to_set)
        if observed.action is None:
            return
        verb, identifier = observed.action
        if verb == "create":
            self._create(target, identifier)
        elif verb == "delete":
            self.rds.delete_instance(identifier)
        else:
            self.rds.modify_instance(identifier, instance_class=self.wanted(target)[1])

    def delete(self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy) -> None:
        """Delete every member (the cluster's final snapshot, taken next, holds the data)."""
        members = observed.members if isinstance(observed, InstancesObservation) else ()
        for member in members:
            if member.status != "deleting":
                self.rds.delete_instance(member.identifier)

    def _create(self, target: Target, identifier: str) -> None:
        n = names(target, self.name_prefix)
        self.rds.create_instance(
            identifier, cluster_identifier=n.cluster, instance_class=self.wanted(target)[1], tags=desired_tags(target)
        )


def _outputs(members: Sequence[Member], outputs: Mapping[str, Any]) -> dict[str, Any]:
    if len(members) == 1 and not members[0].writer:  # a lone member is the writer (before the cluster says so)
        members = [replace(members[0], writer=True)]
    writer = next((m for m in members if m.writer), None)
    provisioned_class = writer.instance_class if writer and writer.instance_class != SERVERLESS_CLASS else None
    return {
        "instances": [
            {
                "identifier": m.identifier,
                "role": "writer" if m.writer else "reader",
                "instanceClass": m.instance_class,
                "status": m.status,
                "arn": m.arn,
            }
            for m in members
        ],
        "capacity": nested(
            outputs,
            "capacity",
            instanceClass=provisioned_class,
            readReplicas=max(0, len(members) - 1),
        ),
    }
