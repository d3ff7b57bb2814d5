"""The database's security group: PostgreSQL (5432) from ``allowFrom``, and from itself.

The group is attached to the cluster, the proxy and the proxy endpoint; the self-reference lets
the proxy reach the cluster. It holds exactly the rules of the spec: rules added out of band are
revoked. When ``spec.network.securityGroupIds`` is given no group is created and those are used;
a group this operator created earlier is then left in place until the resource is deleted (it
may still be attached while the cluster switches groups).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.adapters.database.common import database_spec, desired_tags, names, naming, tag_plan
from upskill_operator.aws.ec2 import Ec2
from upskill_operator.errors import NotFoundError, RecoverableError, TerminalError
from upskill_operator.models.tags import owner_of, tag_dict
from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Target

__all__ = ["PORT", "SecurityGroupAdapter", "SecurityGroupObservation", "ingress_permissions", "rule_atoms"]

PORT = 5432
Atom = tuple[str, str]
"""One source of 5432 traffic: ("cidr", block), ("cidr6", block) or ("group", id)."""


@dataclass(frozen=True)
class SecurityGroupObservation(Observation):
    group_id: str = ""
    to_authorize: frozenset[Atom] = frozenset()
    to_revoke: list[dict[str, Any]] = field(default_factory=list)
    tags_to_set: Mapping[str, str] | None = None
    tags_to_remove: tuple[str, ...] = ()


def rule_atoms(permissions: list[Mapping[str, Any]]) -> tuple[set[Atom], list[dict[str, Any]]]:
    """(5432/tcp sources, every other permission as AWS shaped it) of a group's ``IpPermissions``."""
    atoms: set[Atom] = set()
    others: list[dict[str, Any]] = []
    for perm in permissions:
        if perm.get("IpProtocol") == "tcp" and perm.get("FromPort") == PORT and perm.get("ToPort") == PORT:
            atoms |= {("cidr", r["CidrIp"]) for r in perm.get("IpRanges", [])}
            atoms |= {("cidr6", r["CidrIpv6"]) for r in perm.get("Ipv6Ranges", [])}
            atoms |= {("group", p["GroupId"]) for p in perm.get("UserIdGroupPairs", [])}
            if perm.get("PrefixListIds"):
                others.append({k: perm[k] for k in ("IpProtocol", "FromPort", "ToPort", "PrefixListIds")})
        else:
            others.append(dict(perm))
    return atoms, others


def ingress_permissions(atoms: frozenset[Atom] | set[Atom], description: str) -> list[dict[str, Any]]:
    """One 5432/tcp ``IpPermissions`` entry for the given sources (empty list when none)."""
    if not atoms:
        return []
    return [
        {
            "IpProtocol": "tcp",
            "FromPort": PORT,
            "ToPort": PORT,
            "IpRanges": [{"CidrIp": v, "Description": description} for k, v in sorted(atoms) if k == "cidr"],
            "Ipv6Ranges": [{"CidrIpv6": v, "Description": description} for k, v in sorted(atoms) if k == "cidr6"],
            "UserIdGroupPairs": [{"GroupId": v, "Description": description} for k, v in sorted(atoms) if k == "group"],
        }
    ]


class SecurityGroupAdapter:
    """Implements the reconcile ``Adapter`` protocol for the database's security group."""

    name = "security group"
    owner_field = "spec.clusterIdentifier"

    def __init__(self, ec2: Ec2, name_prefix: str) -> None:
        self.ec2 = ec2
        self.name_prefix = name_prefix

    def _wanted(self, target: Target, group_id: str) -> set[Atom]:
        allow = database_spec(target).network.allow_from
        atoms: set[Atom] = {("group", group_id)}
        if allow is not None:
            atoms |= {("cidr6" if ":" in c else "cidr", c) for c in allow.cidrs}
            atoms |= {("group", g) for g in allow.security_group_ids}
        return atoms

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        given = database_spec(target).network.security_group_ids
        name = names(target, self.name_prefix).security_group
        vpc_id = outputs.get("vpcId") or target.status.get("vpcId")
        if given is not None:
            ours = self.ec2.find_security_group(name, vpc_id) if target.status.get("securityGroupId") else None
            given_outputs = {"securityGroupIds": list(given), "securityGroupId": None}
            if ours is None:
                return Observation(exists=False, up_to_date=True, outputs=given_outputs)
            owner = owner_of(tag_dict(ours.get("Tags")))
            return Observation(exists=True, owner=owner, outputs={**given_outputs, "securityGroupId": ours["GroupId"]})
        group = self.ec2.find_security_group(name, vpc_id)
        if group is None:
            return Observation.absent()
        group_id = group["GroupId"]
        tags = tag_dict(group.get("Tags"))
        owner, named = owner_of(tags), naming(target, self.name_prefix, lambda n: n.security_group)
        have, others = rule_atoms(group.get("IpPermissions", []))
        want = self._wanted(target, group_id)
        extra = have - want
        to_revoke = ingress_permissions(extra, "") + others
        to_set, to_remove = tag_plan(target, tags)
        diff: tuple[str, ...] = ("spec.network.allowFrom",) if want - have or to_revoke else ()
        diff += ("tags",) if to_set or to_remove else ()
        return SecurityGroupObservation(
            exists=True,
            up_to_date=not diff,
            diff=diff,
            owner=owner,
            naming=named,
            outputs={"securityGroupId": group_id, "securityGroupIds": [group_id]} if target.owns(owner, named) else {},
            group_id=group_id,
            to_authorize=frozenset(want - have),
            to_revoke=to_revoke,
            tags_to_set=to_set,
            tags_to_remove=to_remove,
        )

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None:
        """Create the group with its tags, then authorize its rules (a crash between is repaired by update)."""
        vpc_id = outputs.get("vpcId")
        if not vpc_id:
            raise TerminalError("the VPC of the subnets is unknown; the subnet group step has not run", reason="NoVpc")
        group_id = self.ec2.create_security_group(
            names(target, self.name_prefix).security_group,
            description=f"PostgreSQL for {target.owner} (upskill-operator)",
            vpc_id=vpc_id,
            tags=desired_tags(target),
        )
        self._authorize(group_id, ingress_permissions(self._wanted(target, group_id), target.owner))

    def _authorize(self, group_id: str, permissions: list[dict[str, Any]]) -> None:
        try:
            self.ec2.authorize_ingress(group_id, permissions)
        except NotFoundError as exc:
            if group_id in str(exc):
                raise RecoverableError(f"security group {group_id} vanished; observing again") from None
            raise TerminalError(
                f"spec.network.allowFrom.securityGroupIds: {exc}", reason="SecurityGroupNotFound"
            ) from None

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None:
        if not isinstance(observed, SecurityGroupObservation):
            raise RecoverableError("security group: stale observation; observing again")
        self.ec2.revoke_ingress(observed.group_id, observed.to_revoke)
        self._authorize(observed.group_id, ingress_permissions(observed.to_authorize, target.owner))
        self.ec2.delete_tags(observed.group_id, observed.tags_to_remove)
        self.ec2.create_tags(observed.group_id, observed.tags_to_set or {})

    def delete(self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy) -> None:
        group_id = observed.outputs.get("securityGroupId")
        if group_id:
            self.ec2.delete_security_group(str(group_id))
