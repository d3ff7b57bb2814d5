"""RDS's own rotation of a master password it manages (``ModifyDBCluster RotateMasterUserPassword``).

moto 5.2.5 takes the cluster out of its index, then rotates the master secret through Secrets
Manager's ``RotateSecret``; our Secrets Manager extension refuses that (an RDS-managed secret has
no rotation Lambda), the request fails, and the cluster stays out of the index: a refused
request removed the cluster. AWS checks a request before it applies any of it.

What is emulated, exactly:

- the request is checked first, and refused with nothing applied: ``ApplyImmediately`` must be
  true and the cluster's master password must be managed by RDS (``InvalidParameterCombination``);
- moto applies the rest of the request without the rotation;
- RDS then writes the master secret's new version, AWSCURRENT (the former one becomes
  AWSPREVIOUS), holding the same user name and a new generated password. AWS does this within
  seconds to minutes; the bed does it before answering.

The sandbox's PostgreSQL backer follows the new version (:mod:`.rds_backer`).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from moto.rds.exceptions import RDSClientError

__all__ = ["FLAG", "check_rotation", "current_string", "rotate_master_secret"]

FLAG = "RotateMasterUserPassword"


def check_rotation(cluster: Any, params: dict[str, Any]) -> None:
    """Refuse a rotation request AWS refuses, before anything of the request is applied."""
    if not params.get("ApplyImmediately"):
        raise RDSClientError(
            "InvalidParameterCombination",
            "You must specify apply immediately when rotating the master user password.",
        )
    if getattr(cluster, "master_user_secret", None) is None:
        raise RDSClientError(
            "InvalidParameterCombination",
            "RotateMasterUserPassword is valid only when the master user password is managed by RDS "
            "in AWS Secrets Manager.",
        )


def current_string(secret: Any) -> str | None:
    """The SecretString of a moto secret's AWSCURRENT version (its ``secret_string`` keeps the first one)."""
    version = secret.versions.get(secret.default_version_id) or {}
    found = version.get("secret_string", secret.secret_string)
    return None if found is None else str(found)


def rotate_master_secret(cluster: Any, password: str) -> str:
    """Write the new AWSCURRENT version of the cluster's master secret; return its version id."""
    secret = cluster.master_user_secret.secret
    value = json.loads(current_string(secret) or "{}")
    value.update(username=cluster.master_username, password=password)
    version = str(uuid.uuid4())
    backend = cluster.master_user_secret.secretsmanager
    backend.put_secret_value(secret.arn, json.dumps(value), None, version, ["AWSCURRENT"])
    return version
