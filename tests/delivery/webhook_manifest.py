"""The admission webhook as the manifests deliver it: the objects of one build, and what kopf would serve.

Shared by test_webhook.py (the manifests agree with each other, the CRDs and kopf) and
test_webhook_serving.py (the real server answers at the manifest's paths).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import kopf
from kopf._core.engines.admission import build_webhooks

from delivery.kustomize import build, find, one
from upskill_operator.config import Settings
from upskill_operator.handlers import build_registry
from upskill_operator.models import KINDS
from upskill_operator.models.common import API_GROUP, API_VERSION

__all__ = ["OVERLAY", "Delivered", "delivered", "kopf_webhooks"]

OVERLAY = "manifests/overlays/prod"


@dataclass(frozen=True)
class Delivered:
    """The webhook's objects in one kustomize build."""

    objects: list[dict[str, Any]]

    @property
    def configuration(self) -> dict[str, Any]:
        return one(self.objects, "ValidatingWebhookConfiguration", "upskill-operator")

    @property
    def webhooks(self) -> list[dict[str, Any]]:
        hooks: list[dict[str, Any]] = self.configuration["webhooks"]
        return hooks

    @property
    def service(self) -> dict[str, Any]:
        names = {h["clientConfig"]["service"]["name"] for h in self.webhooks}
        assert len(names) == 1, f"every webhook goes through one Service, not {names}"
        return one(self.objects, "Service", names.pop())

    @property
    def pod(self) -> dict[str, Any]:
        pod: dict[str, Any] = one(self.objects, "Deployment", "upskill-operator")["spec"]["template"]
        return pod

    @property
    def container(self) -> dict[str, Any]:
        container: dict[str, Any] = next(c for c in self.pod["spec"]["containers"] if c["name"] == "operator")
        return container

    @property
    def env(self) -> dict[str, str]:
        return {e["name"]: e["value"] for e in self.container["env"] if "value" in e}

    @property
    def settings(self) -> Settings:
        """What the operator reads from the Deployment's environment."""
        return Settings.from_env(self.env)

    def path_of(self, plural: str) -> str:
        hook = next(h for h in self.webhooks if plural in h["rules"][0]["resources"])
        return str(hook["clientConfig"]["service"]["path"])

    def certificates(self) -> list[dict[str, Any]]:
        return find(self.objects, "Certificate")


def delivered(folder: str = OVERLAY) -> Delivered:
    return Delivered(build(folder))


def kopf_webhooks(service: dict[str, Any]) -> list[dict[str, Any]]:
    """The webhooks kopf itself would write (its managed mode) for our handlers, behind ``service``.

    kopf serves each handler at ``<root path>/<handler id>`` and writes the same path into the
    configurations it manages (``kopf._core.engines.admission.build_webhooks``): asking kopf
    keeps the manifest honest if a handler id or kopf's convention changes.
    """
    registry = build_registry(Settings(webhook_port=9443))
    handlers = registry._webhooks.get_all_handlers()
    resources = [
        kopf.Resource(API_GROUP, API_VERSION, info.plural, kind=info.kind, namespaced=True, verbs=["create", "update"])
        for info in KINDS
    ]
    config = {"service": {"name": service["metadata"]["name"], "namespace": service["metadata"]["namespace"]}}
    hooks: list[dict[str, Any]] = build_webhooks(handlers, resources=resources, name_suffix="", client_config=config)
    return hooks
