"""Application users through the RDS Proxy: which secrets the proxy must accept.

An UpskillSecret naming ``source.database.user`` on the ``proxy`` or ``proxyReadOnly`` endpoint
keeps a PostgreSQL role whose credential record lives in its own Secrets Manager secret. RDS Proxy
lets a user in only when that secret is in the proxy's ``Auth`` and the proxy's role can read it.
This read-only step finds those secrets and publishes them (``proxyUsers``) for the proxy role's
policy and the proxy's ``Auth``.

What it trusts: UpskillSecrets of the database's own namespace that name this database (anyone who
may create those may already read its URL), each with the Secrets Manager secret its status names,
and only when that secret carries the owner tag of that very UpskillSecret. Nothing written on the
UpskillDatabase itself (the secrets' request annotations only wake it up) can add a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from upskill_operator.adapters.database.common import database_spec
from upskill_operator.adapters.shared.read_only import ReadOnlyStep
from upskill_operator.aws.errors import AwsTerminalError
from upskill_operator.aws.kms import Kms
from upskill_operator.aws.secretsmanager import SecretsManager
from upskill_operator.errors import NotFoundError
from upskill_operator.models.tags import owner_of, tag_dict
from upskill_operator.reconcile.protocol import Observation, Target

__all__ = ["PROXY_ENDPOINTS", "ProxyUser", "ProxyUsersAdapter", "candidates", "mapping"]

log = logging.getLogger(__name__)

PROXY_ENDPOINTS = frozenset({"proxy", "proxyReadOnly"})

ListSecrets = Callable[[str], list[dict[str, Any]]]
"""namespace -> every UpskillSecret in it (whole objects)."""


@dataclass(frozen=True, order=True)
class ProxyUser:
    """One application user's secret, as the proxy's Auth and its role's policy need it."""

    arn: str
    secret: str
    """The UpskillSecret's name (for the Auth entry's description)."""
    kms_key_arn: str | None = None
    """A customer-managed key encrypting the secret (None: Secrets Manager's own key)."""
    iam: bool = False
    """The UpskillSecret says ``auth: IAM``: the Auth entry is ``IAMAuth: REQUIRED``."""


def candidates(database: str, objects: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """(UpskillSecret name, ARN in its status, auth is IAM) of the secrets that ask this database's proxy. Pure."""
    found: list[tuple[str, str, bool]] = []
    for obj in objects:  # any shape may be stored where no schema guards the kind: never trust one
        meta, status = mapping(obj, "metadata"), mapping(obj, "status")
        source = mapping(mapping(mapping(obj, "spec"), "source"), "database")
        if meta.get("deletionTimestamp") or source.get("ref") != database or not source.get("user"):
            continue
        arn = status.get("arn")
        if source.get("endpoint", "proxy") in PROXY_ENDPOINTS and isinstance(arn, str) and arn:
            found.append((str(meta.get("name")), arn, source.get("auth") == "IAM"))
    return sorted(found)


def mapping(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``parent[key]`` when it is a mapping, else an empty one (objects read from the API are untrusted)."""
    value = parent.get(key)
    return value if isinstance(value, Mapping) else {}


class ProxyUsersAdapter(ReadOnlyStep):
    """Implements the reconcile ``Adapter`` protocol as a read-only step (nothing to create or delete)."""

    name = "proxy users"

    def __init__(self, list_secrets: ListSecrets, secrets: SecretsManager, kms: Kms) -> None:
        self.list_secrets = list_secrets
        self.secrets = secrets
        self.kms = kms

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        users: list[ProxyUser] = []
        if database_spec(target).proxy.enabled and not target.deleting:
            for name, arn, iam in candidates(target.name, self.list_secrets(target.namespace)):
                user = self._verified(target, name, arn)
                if user is not None:
                    users.append(ProxyUser(user.arn, user.secret, user.kms_key_arn, iam=iam))
        return Observation(exists=False, up_to_date=True, outputs={"proxyUsers": tuple(sorted(users))})

    def _verified(self, target: Target, name: str, arn: str) -> ProxyUser | None:
        try:
            described = self.secrets.describe_secret(arn)
        except (NotFoundError, AwsTerminalError):  # gone, not an ARN, or one we may not even describe
            return None
        owner = owner_of(tag_dict(described.get("Tags")))
        if owner != f"{target.namespace}/{name}" or described.get("DeletedDate"):
            log.warning(
                "UpskillSecret %s/%s names secret %s, which is not its own: ignored", target.namespace, name, arn
            )
            return None
        key = described.get("KmsKeyId")
        try:
            key_arn = self.kms.key_arn(str(key)) if key and key != "alias/aws/secretsmanager" else None
        except NotFoundError:
            log.warning("the KMS key of secret %s does not exist: the proxy could not read it", arn)
            return None
        return ProxyUser(arn=str(described["ARN"]), secret=name, kms_key_arn=key_arn)
