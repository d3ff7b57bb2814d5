"""The DB subnet group: the private subnets the cluster's instances live in.

The subnets come from ``spec.network.subnetIds`` or are looked up by ``subnetSelector`` tags on
every pass (one DescribeSubnets), so subnets tagged later join the group. They must be at least
two, in one VPC and two availability zones; a group cannot move to another VPC (a conflict).
This adapter runs first, so it also publishes the network facts later steps use (VPC, subnets),
and before it creates the first object of a database it checks that the cluster those names come
from, if it exists, is this resource's or its to adopt: a cluster identifier naming someone else's
cluster is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from upskill_operator.adapters.database.common import database_spec, desired_tags, names, naming, tag_plan
from upskill_operator.aws.ec2 import Ec2
from upskill_operator.aws.rds import Rds
from upskill_operator.errors import NotFoundError, RecoverableError, TerminalError
from upskill_operator.models.tags import keys_after, managed_keys, owner_of, tag_dict
from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Target

__all__ = ["SubnetGroupAdapter", "SubnetGroupObservation"]


@dataclass(frozen=True)
class SubnetGroupObservation(Observation):
    arn: str = ""
    subnets_to_set: tuple[str, ...] | None = None
    tags_to_set: Mapping[str, str] | None = None
    tags_to_remove: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Network:
    subnet_ids: tuple[str, ...] = ()
    vpc_id: str = ""
    problem: str | None = None


class SubnetGroupAdapter:
    """Implements the reconcile ``Adapter`` protocol for the DB subnet group."""

    name = "subnet group"
    owner_field = "spec.clusterIdentifier"

    def __init__(self, rds: Rds, ec2: Ec2, name_prefix: str) -> None:
        self.rds = rds
        self.ec2 = ec2
        self.name_prefix = name_prefix

    def network(self, target: Target) -> _Network:
        """The subnets the spec names or selects, checked; a problem in words instead of an exception."""
        spec = database_spec(target).network
        try:
            if spec.subnet_ids is not None:
                subnets = self.ec2.subnets(ids=spec.subnet_ids)
                where = "spec.network.subnetIds"
            else:
                assert spec.subnet_selector is not None
                selector = spec.subnet_selector
                subnets = self.ec2.subnets(tags=selector.tags, vpc_id=selector.vpc_id)
                where = "spec.network.subnetSelector"
        except NotFoundError as exc:
            return _Network(problem=f"spec.network.subnetIds: {exc}")
        ids = tuple(sorted(s["SubnetId"] for s in subnets))
        vpcs = sorted({s["VpcId"] for s in subnets})
        zones = {s.get("AvailabilityZone") for s in subnets}
        if len(vpcs) > 1:
            return _Network(ids, problem=f"{where}: the subnets are in {len(vpcs)} VPCs ({', '.join(vpcs)}); use one")
        if len(ids) < 2 or len(zones) < 2:
            return _Network(
                ids,
                vpcs[0] if vpcs else "",
                problem=f"{where}: matched {len(ids)} subnet(s) in {len(zones)} availability zone(s); "
                "a DB subnet group needs at least two subnets in two zones",
            )
        return _Network(ids, vpcs[0])

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        name = names(target, self.name_prefix).subnet_group
        network = self.network(target)
        conflicts: tuple[str, ...] = (network.problem,) if network.problem else ()
        try:
            group = self.rds.describe_subnet_group(name)
            tags = self.rds.list_tags(group["DBSubnetGroupArn"])
        except NotFoundError:
            return Observation(exists=False, up_to_date=False, conflicts=conflicts)
        have = tuple(sorted(s["SubnetIdentifier"] for s in group.get("Subnets", [])))
        owner, named = owner_of(tags), naming(target, self.name_prefix, lambda n: n.subnet_group)
        desired = desired_tags(target)
        to_set, to_remove = tag_plan(target, tags)
        diff: list[str] = []
        if not network.problem and have != network.subnet_ids:
            diff.append("spec.network (subnets)")
            if group.get("VpcId") and group["VpcId"] != network.vpc_id:
                conflicts += (
                    f"spec.network: the subnets are in {network.vpc_id} but the DB subnet group {name} is in "
                    f"{group['VpcId']}; a database cannot move to another VPC",
                )
        if to_set or to_remove:
            diff.append("tags")
        return SubnetGroupObservation(
            exists=True,
            up_to_date=not diff,
            diff=tuple(diff),
            owner=owner,
            naming=named,
            conflicts=conflicts,
            outputs=self._outputs(target, group, network, desired) if target.owns(owner, named) else {},
            arn=group["DBSubnetGroupArn"],
            subnets_to_set=network.subnet_ids if "spec.network (subnets)" in diff else None,
            tags_to_set=to_set,
            tags_to_remove=to_remove,
        )

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None:
        network = self.network(target)
        if network.problem:
            raise TerminalError(network.problem, reason="InvalidNetwork")
        self._check_cluster(target)
        self.rds.create_subnet_group(
            names(target, self.name_prefix).subnet_group,
            description=f"upskill-operator: {target.owner}",
            subnet_ids=network.subnet_ids,
            tags=desired_tags(target),
        )

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None:
        if not isinstance(observed, SubnetGroupObservation):
            raise RecoverableError("subnet group: stale observation; observing again")
        if observed.subnets_to_set is not None:
            self.rds.modify_subnet_group(
                names(target, self.name_prefix).subnet_group, subnet_ids=observed.subnets_to_set
            )
        self.rds.remove_tags(observed.arn, observed.tags_to_remove)
        self.rds.add_tags(observed.arn, observed.tags_to_set or {})

    def delete(self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy) -> None:
        self.rds.delete_subnet_group(names(target, self.name_prefix).subnet_group)

    def _check_cluster(self, target: Target) -> None:
        """Terminal when the cluster of these names exists and is not ours to manage (one DescribeDBClusters)."""
        try:
            cluster = self.rds.describe_cluster(names(target, self.name_prefix).cluster)
        except NotFoundError:
            return
        owner = owner_of(tag_dict(cluster.get("TagList")))
        target.check_claim(self.owner_field, owner, naming(target, self.name_prefix, lambda n: n.cluster))

    @staticmethod
    def _outputs(
        target: Target, group: Mapping[str, Any], network: _Network, desired: Mapping[str, str]
    ) -> dict[str, Any]:
        return {
            "subnetGroupName": group["DBSubnetGroupName"],
            "subnetGroupArn": group["DBSubnetGroupArn"],
            "vpcId": network.vpc_id or group.get("VpcId"),
            "subnetIds": list(network.subnet_ids),
            # Kept until the last step confirms every object dropped the keys the spec no longer has.
            "managedTagKeys": list(keys_after(desired, managed_keys(target.status))),
        }
