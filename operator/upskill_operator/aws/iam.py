"""The IAM façade: the role an RDS Proxy assumes to read its database's master secret.

botocore decodes IAM's URL-encoded policy documents into dicts, so callers compare documents as
data. Policy documents are sent as compact JSON with sorted keys, which keeps requests stable.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Collection, Mapping
from typing import Any

from upskill_operator.aws.codes import ClassifiedFacade
from upskill_operator.aws.errors import AwsNotFoundError
from upskill_operator.models.tags import tag_list

__all__ = ["Iam"]

AwsDict = dict[str, Any]


def _document(policy: Mapping[str, Any] | str) -> dict[str, Any]:
    loaded = json.loads(policy) if isinstance(policy, str) else dict(policy)
    if not isinstance(loaded, dict):
        raise TypeError("a policy document must be a JSON object")
    return loaded


def _dumps(policy: Mapping[str, Any]) -> str:
    return json.dumps(policy, sort_keys=True, separators=(",", ":"))


class Iam(ClassifiedFacade):
    """Typed IAM calls for one role and its inline policy."""

    service = "iam"
    iam_prefix = "iam"
    operations = frozenset(
        {
            "GetRole",
            "CreateRole",
            "DeleteRole",
            "UpdateAssumeRolePolicy",
            "GetRolePolicy",
            "PutRolePolicy",
            "DeleteRolePolicy",
            "TagRole",
            "UntagRole",
        }
    )
    recoverable_codes = frozenset({"DeleteConflict", "EntityAlreadyExists", "ConcurrentModification"})
    terminal_codes = frozenset({"MalformedPolicyDocument"})

    def get_role(self, name: str) -> AwsDict:
        """The ``Role`` with ``Tags`` and a decoded ``AssumeRolePolicyDocument``; ``AwsNotFoundError`` if none."""
        role: AwsDict = self.call("GetRole", RoleName=name)["Role"]
        if "AssumeRolePolicyDocument" in role:
            role["AssumeRolePolicyDocument"] = _document(role["AssumeRolePolicyDocument"])
        return role

    def create_role(
        self,
        name: str,
        *,
        trust_policy: Mapping[str, Any],
        description: str,
        tags: Mapping[str, str],
        permissions_boundary: str | None = None,
    ) -> str:
        """Create the role with its trust policy, tags and permissions boundary in one call; returns its ARN."""
        extra = {"PermissionsBoundary": permissions_boundary} if permissions_boundary else {}
        arn: str = self.call(
            "CreateRole",
            RoleName=name,
            AssumeRolePolicyDocument=_dumps(trust_policy),
            Description=description,
            Tags=tag_list(tags),
            **extra,
        )["Role"]["Arn"]
        return arn

    def update_trust_policy(self, name: str, trust_policy: Mapping[str, Any]) -> None:
        self.call("UpdateAssumeRolePolicy", RoleName=name, PolicyDocument=_dumps(trust_policy))

    def get_inline_policy(self, role: str, policy: str) -> dict[str, Any] | None:
        """The decoded inline policy document, or None when the role has no such policy."""
        try:
            document = self.call("GetRolePolicy", RoleName=role, PolicyName=policy)["PolicyDocument"]
        except AwsNotFoundError:
            return None
        return _document(document)

    def put_inline_policy(self, role: str, policy: str, document: Mapping[str, Any]) -> None:
        self.call("PutRolePolicy", RoleName=role, PolicyName=policy, PolicyDocument=_dumps(document))

    def delete_inline_policy(self, role: str, policy: str) -> None:
        with contextlib.suppress(AwsNotFoundError):
            self.call("DeleteRolePolicy", RoleName=role, PolicyName=policy)

    def delete_role(self, name: str) -> None:
        self.call("DeleteRole", RoleName=name)

    def tag_role(self, name: str, tags: Mapping[str, str]) -> None:
        if tags:
            self.call("TagRole", RoleName=name, Tags=tag_list(tags))

    def untag_role(self, name: str, keys: Collection[str]) -> None:
        if keys:
            self.call("UntagRole", RoleName=name, TagKeys=sorted(keys))
