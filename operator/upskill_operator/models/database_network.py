"""Network of an UpskillDatabase: the private subnets it lives in and who may reach it.

Subnets are named either by id (``subnetIds``) or by tags (``subnetSelector``). The selector lets a
manifest kept in Git describe "the private subnets of this account" without account-specific ids:
the operator resolves it with ``DescribeSubnets`` on every pass, so newly tagged subnets join the
DB subnet group.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from upskill_operator.models.common import Model
from upskill_operator.models.rules import Cel, Matches, Problem, Unique, cel_rules, raise_all

__all__ = [
    "NO_ALLOW_WITH_GROUPS",
    "ONE_SUBNET_SOURCE",
    "AllowFrom",
    "Cidr",
    "NetworkSpec",
    "SecurityGroupId",
    "SubnetId",
    "SubnetSelector",
]


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError(f"must be a CIDR block with no host bits set, such as 10.0.0.0/16 (got {value!r})") from None
    return value


def _filter_tags(tags: dict[str, str]) -> dict[str, str]:
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or not 1 <= len(value) <= 256:
            raise ValueError(f"tag keys take 1-128 characters and values 1-256 (key {key[:40]!r})")
    return tags


Cidr = Annotated[str, Field(max_length=43), AfterValidator(_cidr)]
SubnetId = Annotated[str, Matches(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$", "must be a subnet id (subnet-0a1b2c3d)", 24)]
SecurityGroupId = Annotated[
    str, Matches(r"^sg-[0-9a-f]{8}([0-9a-f]{9})?$", "must be a security group id (sg-0a1b2c3d)", 20)
]
VpcId = Annotated[str, Matches(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$", "must be a VPC id (vpc-0a1b2c3d)", 21)]

NO_ALLOW_WITH_GROUPS = Cel(
    "!(has(self.securityGroupIds) && has(self.allowFrom))",
    "must be omitted when securityGroupIds is set (no security group is created)",
    ".allowFrom",
)
ONE_SUBNET_SOURCE = Cel(
    "has(self.subnetIds) != has(self.subnetSelector)", "exactly one of subnetIds or subnetSelector must be set"
)


class AllowFrom(Model):
    """Who may connect on 5432, through the security group the operator creates."""

    cidrs: Annotated[list[Cidr], Unique()] = Field(default_factory=list, max_length=50, description="CIDR blocks.")
    security_group_ids: Annotated[list[SecurityGroupId], Unique()] = Field(
        default_factory=list, max_length=50, description="Security groups of the clients (apps, the operator)."
    )


class SubnetSelector(Model):
    """Subnets found by tags (every tag must match), optionally within one VPC."""

    tags: Annotated[dict[str, str], AfterValidator(_filter_tags)] = Field(
        min_length=1, max_length=10, description="Tags every selected subnet carries, e.g. {tier: private}."
    )
    vpc_id: VpcId | None = Field(None, description="Only subnets of this VPC; omit to match in any VPC.")


class NetworkSpec(Model):
    """Where the cluster lives (an existing VPC's private subnets) and who may reach it."""

    model_config = ConfigDict(json_schema_extra=cel_rules(NO_ALLOW_WITH_GROUPS, ONE_SUBNET_SOURCE))

    subnet_ids: Annotated[list[SubnetId], Field(min_length=2, max_length=20), Unique()] | None = Field(
        None, description="Private subnets, in at least two AZs, for the DB subnet group."
    )
    subnet_selector: SubnetSelector | None = Field(
        None, description="Select the private subnets by tags instead of listing their ids."
    )
    allow_from: AllowFrom | None = Field(None, description="Ingress rules of the security group the operator creates.")
    security_group_ids: Annotated[list[SecurityGroupId], Unique()] | None = Field(
        None, min_length=1, max_length=5, description="Use these security groups instead of creating one."
    )

    @model_validator(mode="after")
    def _consistent(self) -> NetworkSpec:
        problems: list[Problem] = []
        if self.security_group_ids is not None and self.allow_from is not None:
            problems.append((NO_ALLOW_WITH_GROUPS.loc, NO_ALLOW_WITH_GROUPS.message))
        if (self.subnet_ids is None) == (self.subnet_selector is None):
            problems.append(((), ONE_SUBNET_SOURCE.message))
        raise_all(problems)
        return self
