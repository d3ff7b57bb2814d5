"""The validating admission webhook: every semantic check, refused before anything is stored.

The checks are :func:`~upskill_operator.models.validation.validate_spec`, the same
function the reconcile handlers use when no webhook is installed (they then set
Terminal with the same message and change nothing in AWS).

An UPDATE that leaves the spec alone is always allowed: the manifests send only creates and spec
changes (``matchConditions``), and this keeps clusters older than 1.28, which ignore them, from
refusing the finalizer removal of an object stored before the webhook was installed.
"""

from __future__ import annotations

from typing import Any

import kopf

from upskill_operator.config import Settings
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


def register(registry: kopf.OperatorRegistry, info: KindInfo) -> None:
    """One validating handler per kind, served at ``/validate-<plural>``."""

    def validate(spec: kopf.Spec, old: Any = None, operation: Any = None, **_: Any) -> None:
        old_spec = dict(old.get("spec") or {}) if old and operation == "UPDATE" else None
        if old_spec is not None and old_spec == dict(spec):
            return  # metadata or finalizers only: an object stored before the webhook existed must stay deletable
        status = dict(old.get("status") or {}) if old_spec is not None else None
        errors = validate_spec(info.kind, dict(spec), old_spec, status)
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
