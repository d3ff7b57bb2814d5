"""The operator's IAM principal in an enforcing bed, made as an administrator would make it on AWS.

A role named outside the prefix (``operator-upskill``) holding exactly ``manifests/iam/policy.json``
as its inline policy (AWS allows 10,240 characters, whitespace not counted, for a role's inline
policies), the proxy roles' permissions boundary as a managed policy, and temporary credentials of
the role from ``sts:AssumeRole``, as IRSA hands the operator.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from upskill_operator.generate import boundary
from upskill_operator.generate import iam_policy as policy
from upskill_sandbox.aws import MotoServer

__all__ = ["ROLE_INLINE_LIMIT", "OperatorPrincipal", "operator_principal"]

ROLE_INLINE_LIMIT = 10_240
"""IAM's quota for a role's inline policy documents, in characters without whitespace."""
ROLE = "operator-upskill"


@dataclass(frozen=True)
class OperatorPrincipal:
    role_arn: str
    boundary_arn: str
    env: dict[str, str]
    """AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN of the assumed role."""

    def session_kwargs(self) -> dict[str, str]:
        return {
            "aws_access_key_id": self.env["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": self.env["AWS_SECRET_ACCESS_KEY"],
            "aws_session_token": self.env["AWS_SESSION_TOKEN"],
        }


def _compact(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def operator_principal(aws: MotoServer, region: str, prefix: str = "upskill") -> OperatorPrincipal:
    """Create the role, its policy and the boundary (with the bed's own key); return the role's credentials."""
    document = _compact(policy.document(prefix))
    if len(document) > ROLE_INLINE_LIMIT:
        raise ValueError(f"the policy has {len(document)} characters; IAM allows {ROLE_INLINE_LIMIT} inline")
    iam = aws.client("iam", region)
    account = aws.client("sts", region).get_caller_identity()["Account"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    try:  # moto's state is per process: a second bed of the session finds the role and the boundary
        role_arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=_compact(trust))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role_arn = iam.get_role(RoleName=ROLE)["Role"]["Arn"]
    iam.put_role_policy(RoleName=ROLE, PolicyName="upskill-operator", PolicyDocument=document)
    name = boundary.BOUNDARY_NAME.format(prefix=prefix)
    boundary_arn = f"arn:aws:iam::{account}:policy/{name}"
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_policy(PolicyName=name, PolicyDocument=_compact(boundary.document(prefix)))
    credentials = aws.client("sts", region).assume_role(RoleArn=role_arn, RoleSessionName="upskill-operator")[
        "Credentials"
    ]
    env = {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }
    return OperatorPrincipal(role_arn, boundary_arn, env)
