"""The validating admission webhook: every semantic check, refused before anything is stored.

The checks are :func:`~upskill_operator.models.validation.validate_spec`, the same
function the reconcile handlers use when no webhook is installed (they then set
Terminal with the same message and change nothing in AWS).

An UpskillSecret with a database source is also checked against the UpskillDatabase it names, when
that exists: an ``auth`` that cannot log in there (a password for a master entry that requires IAM
…, :func:`~upskill_operator.adapters.secret.database_source.check_auth`) is refused with both fields named.
A database that does not exist yet is no reason to refuse: the operator checks again when it does.

An UPDATE that leaves the spec alone is always allowed: the manifests send only creates and spec
changes (``matchConditions``), and this keeps clusters older than 1.28, which ignore them, from
refusing the finalizer removal of an object stored before the webhook was installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kopf
from pydantic import ValidationError

from upskill_operator.adapters.secret.database_source import check_auth
from upskill_operator.config import Settings
from upskill_operator.errors import TerminalError
from upskill_operator.kube.client import Kube, load_configuration
from upskill_operator.kube.custom_objects import CustomObjects
from upskill_operator.models import database, secret
from upskill_operator.models.common import API_GROUP, API_VERSION, KindInfo
from upskill_operator.models.validation import validate_spec

__all__ = ["register", "server"]


def server(settings: Settings) -> kopf.WebhookServer | None:
    """kopf's webhook server, or None when the webhook is off (port 0)."""
    if not settings.webhook_port:
        return None
    return kopf.WebhookServer(
        addr=settings.webhook_address,
        port=settings.webhook_port,
        certfile=settings.webhook_certfile,
        pkeyfile=settings.webhook_keyfile,
        insecure=settings.webhook_insecure,
    )


def database_auth_problem(objects: CustomObjects, namespace: str, spec: dict[str, Any]) -> str | None:
    """Why an UpskillSecret's database source cannot log in to the UpskillDatabase it names; None when it can
    (or when that database, or a valid source, is not there to judge)."""
    try:
        source = secret.SecretSpec.model_validate(spec).source.database
    except ValidationError:
        return None
    if source is None:
        return None
    found = objects.get(API_GROUP, API_VERSION, namespace, database.KIND.plural, source.ref)
    if found is None:
        return None
    try:
        check_auth(source, found.get("spec") or {}, f"UpskillDatabase {source.ref}")
    except TerminalError as error:
        return str(error)
    return None


def register(registry: kopf.OperatorRegistry, info: KindInfo, settings: Settings) -> None:
    """One validating handler per kind, served at ``/validate-<plural>``."""
    objects: list[CustomObjects] = []

    def custom_objects() -> CustomObjects:
        if not objects:  # built on first use: the webhook must not need the API before a request comes
            objects.append(CustomObjects(Kube(load_configuration(settings.kubeconfig))))
        return objects[0]

    cross_check: Callable[[str, dict[str, Any]], str | None] | None = (
        (lambda namespace, spec: database_auth_problem(custom_objects(), namespace, spec))
        if info.kind == secret.KIND.kind
        else None
    )

    def validate(
        spec: kopf.Spec, old: Any = None, operation: Any = None, namespace: str | None = None, **_: Any
    ) -> None:
        old_spec = dict(old.get("spec") or {}) if old and operation == "UPDATE" else None
        if old_spec is not None and old_spec == dict(spec):
            return  # metadata or finalizers only: an object stored before the webhook existed must stay deletable
        status = dict(old.get("status") or {}) if old_spec is not None else None
        errors = validate_spec(info.kind, dict(spec), old_spec, status)
        if not errors and cross_check is not None and namespace:
            problem = cross_check(namespace, dict(spec))
            errors = [problem] if problem else []
        if errors:
            raise kopf.AdmissionError("; ".join(errors), code=422)

    kopf.on.validate(
        API_GROUP,
        API_VERSION,
        info.plural,
        registry=registry,
        id=f"validate-{info.plural}",
        operations=["CREATE", "UPDATE"],
    )(validate)
