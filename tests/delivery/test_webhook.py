"""The admission webhook's manifests agree with kopf, the CRDs, the Deployment and cert-manager.

manifests/webhook is a kustomize Component (the ValidatingWebhookConfiguration, its Service and
the Deployment's settings); manifests/webhook/cert-manager adds the certificate. The prod overlay
includes both; base has neither and runs without a webhook. What the API server does with these
objects is simulated where it matters: the CEL matchConditions run under cel-python, and
test_webhook_serving.py sends real AdmissionReviews over TLS to the paths checked here.
"""

from __future__ import annotations

import posixpath
from typing import Any

import celpy
import pytest
from celpy.adapter import json_to_cel

from delivery.kustomize import build, find, one
from delivery.webhook_manifest import OVERLAY, Delivered, delivered, kopf_webhooks
from upskill_operator.config import Settings

CERT_MANAGER = "manifests/webhook/cert-manager"


@pytest.fixture(scope="module")
def prod() -> Delivered:
    return delivered(OVERLAY)


def test_base_runs_without_a_webhook_and_prod_with_one(prod: Delivered) -> None:
    base = delivered("manifests/base")
    assert not find(base.objects, "ValidatingWebhookConfiguration")
    assert not find(base.objects, "Certificate"), "base must not need cert-manager"
    assert base.settings.webhook_port == 0, "no webhook server without its configuration and certificate"
    assert not [v for v in base.pod["spec"]["volumes"] if "secret" in v]
    assert prod.settings.webhook_port > 0


def test_paths_and_rules_are_the_ones_kopf_serves(prod: Delivered) -> None:
    ours = {h["clientConfig"]["service"]["path"]: h for h in prod.webhooks}
    kopfs = {h["clientConfig"]["service"]["path"]: h for h in kopf_webhooks(prod.service)}
    assert set(ours) == set(kopfs), "one webhook per kopf handler, at the path kopf serves it on"
    for path, hook in ours.items():
        theirs = kopfs[path]
        assert [{k: v for k, v in r.items() if k != "scope"} for r in hook["rules"]] == [
            {k: v for k, v in r.items() if k != "scope"} for r in theirs["rules"]
        ], path
        assert hook["failurePolicy"] == theirs["failurePolicy"] == "Fail", path
        assert hook["sideEffects"] == theirs["sideEffects"] == "None", path
        assert hook["admissionReviewVersions"] == ["v1"], "kopf answers v1 reviews"
        assert 1 <= hook["timeoutSeconds"] <= 10, "a pure check: fail fast rather than hold the API server"


def test_every_crd_is_covered_by_its_plural_and_versions(prod: Delivered) -> None:
    crds = find(prod.objects, "CustomResourceDefinition")
    assert len(crds) == 3
    for crd in crds:
        spec = crd["spec"]
        served = [v["name"] for v in spec["versions"] if v["served"]]
        hooks = [h for h in prod.webhooks if spec["names"]["plural"] in h["rules"][0]["resources"]]
        assert len(hooks) == 1, spec["names"]["kind"]
        (rule,) = hooks[0]["rules"]
        assert rule["apiGroups"] == [spec["group"]]
        assert rule["apiVersions"] == served
        assert rule["resources"] == [spec["names"]["plural"]], "the resource, not its status subresource"
        assert sorted(rule["operations"]) == ["CREATE", "UPDATE"]
        assert rule["scope"] == spec["scope"]
        assert hooks[0]["name"].endswith(".upskill.io")
    assert len(prod.webhooks) == len(crds)


def test_the_service_reaches_the_operator_s_webhook_port(prod: Delivered) -> None:
    service = prod.service
    for hook in prod.webhooks:
        ref = hook["clientConfig"]["service"]
        assert (ref["name"], ref["namespace"]) == (service["metadata"]["name"], service["metadata"]["namespace"])
        assert ref["port"] in {p["port"] for p in service["spec"]["ports"]}
        assert "url" not in hook["clientConfig"]
    port = next(p for p in service["spec"]["ports"] if p["port"] == prod.webhooks[0]["clientConfig"]["service"]["port"])
    container_ports = {p["name"]: p["containerPort"] for p in prod.container["ports"]}
    assert container_ports[port["targetPort"]] == prod.settings.webhook_port, "the Service's target is the served port"
    assert service["spec"]["selector"].items() <= prod.pod["metadata"]["labels"].items()
    deployment = one(prod.objects, "Deployment", "upskill-operator")
    assert service["metadata"]["namespace"] == deployment["metadata"]["namespace"]


def test_the_certificate_names_the_service_and_lands_where_the_operator_reads_it(prod: Delivered) -> None:
    settings = prod.settings
    assert settings.webhook_certfile
    assert settings.webhook_keyfile
    assert not settings.webhook_insecure
    service, namespace = prod.service["metadata"]["name"], prod.service["metadata"]["namespace"]
    volume_name, secret_name = _mounted_secret(prod, posixpath.dirname(settings.webhook_certfile))
    assert posixpath.dirname(settings.webhook_keyfile) == posixpath.dirname(settings.webhook_certfile)
    assert posixpath.basename(settings.webhook_certfile) == "tls.crt", "what cert-manager writes"
    assert posixpath.basename(settings.webhook_keyfile) == "tls.key"
    serving = next(c for c in prod.certificates() if c["spec"]["secretName"] == secret_name)
    # The API server dials <service>.<namespace>.svc and checks the certificate against that name.
    assert f"{service}.{namespace}.svc" in serving["spec"]["dnsNames"]
    assert all(n.startswith(f"{service}.{namespace}.svc") for n in serving["spec"]["dnsNames"])
    assert "server auth" in serving["spec"]["usages"]
    assert serving["metadata"]["namespace"] == namespace
    annotation = prod.configuration["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]
    assert annotation == f"{namespace}/{serving['metadata']['name']}"
    # The serving certificate comes from a CA issuer whose CA is self-signed: the caBundle is the CA,
    # which a renewal of the serving certificate does not change.
    issuer = one(prod.objects, "Issuer", serving["spec"]["issuerRef"]["name"])
    ca = next(c for c in prod.certificates() if c["spec"]["secretName"] == issuer["spec"]["ca"]["secretName"])
    assert ca["spec"]["isCA"] is True
    assert "selfSigned" in one(prod.objects, "Issuer", ca["spec"]["issuerRef"]["name"])["spec"]
    assert volume_name


def _mounted_secret(prod: Delivered, directory: str) -> tuple[str, str]:
    mount = next(m for m in prod.container["volumeMounts"] if m["mountPath"] == directory)
    assert mount["readOnly"] is True
    volume = next(v for v in prod.pod["spec"]["volumes"] if v["name"] == mount["name"])
    assert volume["secret"]["defaultMode"] & 0o007 == 0, "the key is not world-readable"
    assert volume["secret"].get("optional") is not True, "no certificate, no start"
    return str(mount["name"]), str(volume["secret"]["secretName"])


def test_the_pod_stays_non_root_with_a_read_only_root(prod: Delivered) -> None:
    pod, security = prod.pod["spec"], prod.container["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    writable = [m for m in prod.container["volumeMounts"] if not m.get("readOnly")]
    assert [m["mountPath"] for m in writable] == ["/tmp"], "only /tmp is writable"
    assert prod.settings.webhook_port >= 1024, "no privileged port for a non-root process"


def test_the_cert_manager_component_only_adds_the_certificate() -> None:
    without = build("manifests/webhook")
    kinds = sorted({o["kind"] for o in build(CERT_MANAGER)})
    assert kinds == ["Certificate", "Issuer"]
    assert (
        one(without, "ValidatingWebhookConfiguration")["metadata"]
        .get("annotations", {})
        .get("cert-manager.io/inject-ca-from")
        is None
    ), "without cert-manager, the caBundle is yours to set (docs/admission.md)"


def _match(hook: dict[str, Any], operation: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> bool:
    """Whether the API server would call the webhook: every matchCondition true (CEL, as the server runs it)."""
    environment = celpy.Environment()
    activation = {
        "request": json_to_cel({"operation": operation}),
        "object": json_to_cel(new),
        "oldObject": json_to_cel(old),
    }
    return all(
        bool(environment.program(environment.compile(c["expression"])).evaluate(activation))
        for c in hook.get("matchConditions") or []
    )


def _table(**meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "upskill.io/v1alpha1",
        "kind": "UpskillTable",
        "metadata": {"name": "t", "namespace": "ns", **meta},
        "spec": {"keys": {"partition": {"name": "pk", "type": "S"}}},
    }


def test_only_spec_changes_reach_the_webhook(prod: Delivered) -> None:
    old = _table(finalizers=["upskill.io/finalizer"])
    changed = _table(finalizers=["upskill.io/finalizer"])
    changed["spec"]["ttlAttribute"] = "expiresAt"
    released = _table(deletionTimestamp="2026-01-01T00:00:00Z")
    nudged = _table(finalizers=["upskill.io/finalizer"], annotations={"sweeper.upskill.io/nudge": "now"})
    for hook in prod.webhooks:
        assert _match(hook, "CREATE", old, None), "creates are validated"
        assert _match(hook, "UPDATE", changed, old), "spec changes are validated"
        assert not _match(hook, "UPDATE", released, old), "a finalizer removal is never refused"
        assert not _match(hook, "UPDATE", nudged, old), "annotations (kopf's, the sweeper's) are never refused"


def test_without_the_webhook_settings_the_server_stays_off() -> None:
    assert Settings.from_env({}).webhook_port == 0
    env = {"UPSKILL_WEBHOOK_PORT": "9443", "UPSKILL_WEBHOOK_CERTFILE": "/c", "UPSKILL_WEBHOOK_KEYFILE": "/k"}
    settings = Settings.from_env(env)
    assert (settings.webhook_port, settings.webhook_certfile, settings.webhook_keyfile) == (9443, "/c", "/k")
