"""The permissions boundary of the IAM roles the operator creates (``manifests/iam/proxy-role-boundary.json``).

An administrator creates it once as a managed policy named ``<prefix>-proxy-role-boundary`` and sets
its ARN as ``UPSKILL_PROXY_ROLE_BOUNDARY_ARN``. The operator's policy lets it create and change roles
only when this boundary is attached (``iam:PermissionsBoundary``), so whatever inline policy or trust
a role is given, it can never do more than this: read the secrets an RDS Proxy needs, nothing else.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["BOUNDARY_NAME", "FILE_NAME", "document", "render"]

FILE_NAME = "proxy-role-boundary.json"
BOUNDARY_NAME = "{prefix}-proxy-role-boundary"
"""The managed policy every role the operator creates must carry as its permissions boundary."""


def document(prefix: str = "upskill") -> dict[str, Any]:
    """At most: read our owner-tagged secrets and our clusters' RDS master secrets, decrypt via Secrets Manager."""
    owner = "upskill.io/owner"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadOurSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": f"arn:aws:secretsmanager:*:*:secret:{prefix}/*",
                "Condition": {"Null": {f"secretsmanager:ResourceTag/{owner}": "false"}},
            },
            {
                "Sid": "ReadMasterSecretsOfOurClusters",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "arn:aws:secretsmanager:*:*:secret:rds!*",
                "Condition": {
                    "StringLike": {
                        "secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn": f"arn:aws:rds:*:*:cluster:{prefix}-*"
                    }
                },
            },
            {
                "Sid": "DecryptThroughSecretsManager",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}},
            },
        ],
    }


def render(prefix: str = "upskill") -> str:
    return json.dumps(document(prefix), indent=2) + "\n"
