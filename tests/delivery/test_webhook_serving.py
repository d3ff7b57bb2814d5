"""The delivered webhook answers at the manifest's paths, over TLS, as the API server would call it.

The real operator (kopf's webhook server) runs against our Kubernetes emulator with the settings
the prod Deployment gives it, its certificate files in a folder laid out as the mounted Secret
(tls.crt, tls.key). The certificate is issued the way manifests/webhook/cert-manager issues it: a
self-signed CA signs a serving certificate for the Certificate's dnsNames. The client does what
the API server does: it trusts only that CA (the caBundle cert-manager injects), checks the name
``<service>.<namespace>.svc``, and POSTs an AdmissionReview to the exact path of the manifest.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import posixpath
import socket
import ssl
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from delivery.kustomize import build
from delivery.webhook_manifest import Delivered, delivered
from upskill_operator.generate import crds
from upskill_operator.models import KINDS
from upskill_operator.models.validation import validate_spec
from upskill_sandbox.kube import KubeServer
from upskill_sandbox.operator_thread import OperatorThread

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Served:
    manifest: Delivered
    port: int
    cafile: Path

    @property
    def server_name(self) -> str:
        meta = self.manifest.service["metadata"]
        return f"{meta['name']}.{meta['namespace']}.svc"


def _issue(folder: Path, dns_names: list[str], certfile: str, keyfile: str) -> Path:
    """A CA and a serving certificate signed by it; returns the CA file (the caBundle)."""
    now = dt.datetime.now(dt.UTC)

    def certificate(subject: x509.Name, key: Any, issuer: x509.Name, signer: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate(name("upskill-operator-webhook-ca"), ca_key, name("upskill-operator-webhook-ca"), ca_key, ca=True)
    serving = certificate(name(dns_names[0]), key, ca.subject, ca_key, ca=False)
    (folder / certfile).write_bytes(serving.public_bytes(serialization.Encoding.PEM))
    (folder / keyfile).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    (folder / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return folder / "ca.crt"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    manifest = delivered()
    settings = manifest.settings
    assert settings.webhook_certfile
    assert settings.webhook_keyfile
    mounted = tmp_path_factory.mktemp("webhook-tls")  # stands for the Secret mounted by the Deployment
    serving = next(c for c in manifest.certificates() if not c["spec"].get("isCA"))
    certfile, keyfile = posixpath.basename(settings.webhook_certfile), posixpath.basename(settings.webhook_keyfile)
    cafile = _issue(mounted, serving["spec"]["dnsNames"], certfile, keyfile)
    port = _free_port()  # the manifest's own port (9443) may be taken on this machine
    with KubeServer() as kube:
        for text in crds.render_all().values():
            kube.apply_yaml(text)
        local = settings.model_copy(
            update={
                "kubeconfig": str(kube.write_kubeconfig(mounted.parent / "kubeconfig")),
                "metrics_port": 0,
                "webhook_port": port,
                "webhook_certfile": str(mounted / certfile),
                "webhook_keyfile": str(mounted / keyfile),
            }
        )
        with OperatorThread(local):
            deadline = time.monotonic() + 15
            while not _listening(port):  # the server starts once kopf has scanned the cluster's resources
                assert time.monotonic() < deadline, "the webhook server did not start"
                time.sleep(0.1)
            yield Served(manifest, port, cafile)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def review(served: Served, path: str, kind: str, plural: str, spec: dict[str, Any]) -> dict[str, Any]:
    """POST one AdmissionReview (CREATE) over TLS, checked as the API server checks it; the response part."""
    gvk = {"group": "upskill.io", "version": "v1alpha1", "kind": kind}
    gvr = {"group": "upskill.io", "version": "v1alpha1", "resource": plural}
    obj = {
        "apiVersion": "upskill.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": "x", "namespace": "ns"},
        "spec": spec,
    }
    uid = str(uuid.uuid4())
    request = {"uid": uid, "kind": gvk, "resource": gvr, "requestKind": gvk, "requestResource": gvr, "name": "x"}
    request |= {"namespace": "ns", "operation": "CREATE", "userInfo": {"username": "alice"}, "object": obj}
    request |= {"oldObject": None, "dryRun": False, "options": {}}
    body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})
    context = ssl.create_default_context(cafile=str(served.cafile))
    raw = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    with context.wrap_socket(raw, server_hostname=served.server_name) as tls:
        connection = http.client.HTTPConnection(served.server_name, served.port, timeout=10)
        connection.sock = tls
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 200, response.reason
        answer = json.loads(response.read())
    assert answer["response"]["uid"] == uid
    return dict(answer["response"])


def _examples() -> dict[str, dict[str, Any]]:
    """One valid spec per kind, from the example stack."""
    found: dict[str, dict[str, Any]] = {}
    for obj in build("manifests/examples/upskill-stack"):
        found.setdefault(obj["kind"], obj["spec"])
    return found


@pytest.mark.parametrize("info", KINDS, ids=lambda info: info.kind)
def test_each_manifest_path_validates_its_kind(served: Served, info: Any) -> None:
    path = served.manifest.path_of(info.plural)
    assert review(served, path, info.kind, info.plural, _examples()[info.kind])["allowed"] is True
    refused = review(served, path, info.kind, info.plural, {})
    assert refused["allowed"] is False
    assert refused["status"]["code"] == 422
    assert refused["status"]["message"] == "; ".join(validate_spec(info.kind, {})), "the operator's own check"


def test_a_wrong_path_would_let_everything_in(served: Served) -> None:
    """Why the paths are tested: kopf routes by the handler id in the path, and allows what no handler checks."""
    answer = review(served, "/validate-upskilltable", "UpskillTable", "upskilltables", {})
    assert answer["allowed"] is True


def test_the_examples_cover_every_kind() -> None:
    assert set(_examples()) == {info.kind for info in KINDS}
