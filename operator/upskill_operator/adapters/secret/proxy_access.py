"""An application user on a proxy endpoint: wait until the database's RDS Proxy accepts the secret.

The proxy lets a user in only once its secret is in the proxy's ``Auth`` (see
:mod:`.proxy_users`, on the UpskillDatabase side). Syncing the URL before that would hand apps a
URL that fails to log in, so this step sits between the Secrets Manager secret and the sync:

- the secret's ARN is in the UpskillDatabase's ``status.proxyUserSecretArns`` (what AWS accepts):
  up to date, the sync may go on;
- otherwise it asks, once: an annotation ``proxy-users.upskill.io/<secret>`` on the UpskillDatabase
  (its value is the ARN, for people reading it) wakes the database up, whose next pass finds this
  secret and registers it. The annotation is only a doorbell: the database trusts the
  UpskillSecret's own status and the secret's owner tag, never the annotation;
- it asks only once its own status shows the ARN, which is what the database reads.

When the secret stops needing the proxy (deleted, or moved to the writer or reader endpoint) the
annotation is removed, so the database drops the secret from the proxy at its next pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from upskill_operator.adapters.database.proxy_users import PROXY_ENDPOINTS, mapping
from upskill_operator.adapters.secret.source import secret_spec
from upskill_operator.kube.custom_objects import CustomObjects
from upskill_operator.models import database
from upskill_operator.models.common import API_GROUP, API_VERSION
from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Target

__all__ = ["REQUEST_PREFIX", "ProxyAccessAdapter", "request_key"]

REQUEST_PREFIX = "proxy-users.upskill.io/"


def request_key(secret: str) -> str:
    """The annotation an UpskillSecret rings on its database; names over 63 characters are hashed."""
    name = secret if len(secret) <= 63 else hashlib.sha256(secret.encode()).hexdigest()[:32]
    return REQUEST_PREFIX + name


class ProxyAccessAdapter:
    """Implements the reconcile ``Adapter`` protocol for the request annotation on the UpskillDatabase."""

    name = "proxy access"
    owner_field = None

    def __init__(self, objects: CustomObjects) -> None:
        self.objects = objects

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        source = secret_spec(target).source.database
        if source is None or source.user is None:  # only application users ever ring: no read for the rest
            return Observation(exists=False, up_to_date=True)
        found = self._database(target, source.ref)
        requested = mapping(mapping(found or {}, "metadata"), "annotations").get(request_key(target.name))
        needed = source.endpoint in PROXY_ENDPOINTS and not target.deleting
        if not needed:
            if requested is None:
                return Observation(exists=False, up_to_date=True)
            return Observation(exists=True, up_to_date=False, diff=("proxy access no longer needed",), unwanted=True)
        arn = outputs.get("arn")
        accepted = mapping(found or {}, "status").get("proxyUserSecretArns") or []
        what = f"UpskillDatabase {source.ref}"
        if found is None or not arn:
            return Observation(exists=True, pending=f"waiting for {what} and this secret's ARN")
        if isinstance(accepted, list) and arn in accepted:
            return Observation(exists=True)
        if target.status.get("arn") != arn:
            return Observation(exists=True, pending="waiting for this secret's status to show its ARN")
        if requested != arn:
            return Observation.absent()  # ring: create() writes the annotation
        return Observation(exists=True, pending=f"waiting for the RDS Proxy of {what} to accept this secret")

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None:
        self._ring(target, str(outputs["arn"]))

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None:
        """Nothing to update: observe reports the request up to date, waiting, or missing."""

    def delete(self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy) -> None:
        self._ring(target, None)

    def _database(self, target: Target, ref: str) -> dict[str, Any] | None:
        return self.objects.get(API_GROUP, API_VERSION, target.namespace, database.KIND.plural, ref)

    def _ring(self, target: Target, value: str | None) -> None:
        source = secret_spec(target).source.database
        if source is not None:
            self.objects.annotate(
                API_GROUP,
                API_VERSION,
                target.namespace,
                database.KIND.plural,
                source.ref,
                {request_key(target.name): value},
            )
