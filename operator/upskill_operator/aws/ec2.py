"""The EC2 façade: subnets (by id or by tags) and the database's security group.

Ingress changes are idempotent here: authorizing a rule that exists or revoking one that does not
counts as done, so a retry after a crash never fails on its own earlier success.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from upskill_operator.aws.codes import ClassifiedFacade
from upskill_operator.aws.errors import AwsNotFoundError, AwsTerminalError
from upskill_operator.models.tags import tag_list

__all__ = ["Ec2"]

AwsDict = dict[str, Any]


class Ec2(ClassifiedFacade):
    """Typed EC2 calls for the network glue of a database."""

    service = "ec2"
    iam_prefix = "ec2"
    operations = frozenset(
        {
            "DescribeSubnets",
            "DescribeSecurityGroups",
            "CreateSecurityGroup",
            "DeleteSecurityGroup",
            "AuthorizeSecurityGroupIngress",
            "RevokeSecurityGroupIngress",
            "CreateTags",
            "DeleteTags",
        }
    )
    recoverable_codes = frozenset({"InvalidGroupDuplicate", "DependencyViolation"})

    def subnets(
        self, *, ids: Collection[str] = (), tags: Mapping[str, str] | None = None, vpc_id: str | None = None
    ) -> list[AwsDict]:
        """Subnets by id, or every subnet carrying all ``tags`` (in ``vpc_id`` when given)."""
        filters: list[AwsDict] = [{"Name": f"tag:{key}", "Values": [value]} for key, value in (tags or {}).items()]
        if vpc_id:
            filters.append({"Name": "vpc-id", "Values": [vpc_id]})
        params: AwsDict = {"Filters": filters} if filters else {}
        if ids:
            params["SubnetIds"] = sorted(ids)
        subnets: list[AwsDict] = []
        token: str | None = None
        while True:
            page = self.call("DescribeSubnets", **params, **({"NextToken": token} if token else {}))
            subnets.extend(page.get("Subnets", []))
            token = page.get("NextToken")
            if not token:
                return subnets

    def find_security_group(self, name: str, vpc_id: str | None = None) -> AwsDict | None:
        """The security group called ``name`` (in ``vpc_id`` when given), or None."""
        filters: list[AwsDict] = [{"Name": "group-name", "Values": [name]}]
        if vpc_id:
            filters.append({"Name": "vpc-id", "Values": [vpc_id]})
        groups: list[AwsDict] = self.call("DescribeSecurityGroups", Filters=filters).get("SecurityGroups", [])
        return groups[0] if groups else None

    def create_security_group(self, name: str, *, description: str, vpc_id: str, tags: Mapping[str, str]) -> str:
        """Create the group with its tags in one call; returns its id."""
        group_id: str = self.call(
            "CreateSecurityGroup",
            GroupName=name,
            Description=description,
            VpcId=vpc_id,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": tag_list(tags)}],
        )["GroupId"]
        return group_id

    def delete_security_group(self, group_id: str) -> None:
        with contextlib.suppress(AwsNotFoundError):
            self.call("DeleteSecurityGroup", GroupId=group_id)

    def authorize_ingress(self, group_id: str, permissions: Sequence[Mapping[str, Any]]) -> None:
        if not permissions:
            return
        try:
            self.call("AuthorizeSecurityGroupIngress", GroupId=group_id, IpPermissions=[dict(p) for p in permissions])
        except AwsTerminalError as exc:
            if exc.reason != "InvalidPermissionDuplicate":
                raise

    def revoke_ingress(self, group_id: str, permissions: Sequence[Mapping[str, Any]]) -> None:
        if not permissions:
            return
        with contextlib.suppress(AwsNotFoundError):  # InvalidPermission.NotFound: already gone
            self.call("RevokeSecurityGroupIngress", GroupId=group_id, IpPermissions=[dict(p) for p in permissions])

    def create_tags(self, resource_id: str, tags: Mapping[str, str]) -> None:
        if tags:
            self.call("CreateTags", Resources=[resource_id], Tags=tag_list(tags))

    def delete_tags(self, resource_id: str, keys: Collection[str]) -> None:
        if keys:
            self.call("DeleteTags", Resources=[resource_id], Tags=[{"Key": key} for key in sorted(keys)])
