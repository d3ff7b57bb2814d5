"""The bed's TLS files: the CA signs a server certificate for this machine's names; the key is private."""

from __future__ import annotations

import ipaddress
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from upskill_sandbox.tls import VALID_DAYS, make_tls_files


def test_the_ca_signs_the_server_certificate_for_localhost_and_loopback(tmp_path: Path) -> None:
    files = make_tls_files(tmp_path)
    assert (files.ca, files.cert, files.key) == tuple(
        tmp_path / "tls" / n for n in ("ca.pem", "server.pem", "server.key")
    )
    ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    server = x509.load_pem_x509_certificates(files.cert.read_bytes())[0]
    server.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(sans.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }
    assert isinstance(server.public_key(), ec.EllipticCurvePublicKey)
    assert (server.not_valid_after_utc - server.not_valid_before_utc).days <= VALID_DAYS
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600


def test_a_verify_full_client_accepts_the_names_and_refuses_another(tmp_path: Path) -> None:
    files = make_tls_files(tmp_path)
    server = x509.load_pem_x509_certificates(files.cert.read_bytes())[0]
    client = ssl.create_default_context(cafile=str(files.ca))
    assert client.verify_mode == ssl.CERT_REQUIRED
    assert client.check_hostname
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(files.cert, files.key)  # the key matches
    other = make_tls_files(tmp_path / "other")
    foreign = x509.load_pem_x509_certificate(other.ca.read_bytes())
    with pytest.raises(InvalidSignature):  # another CA did not sign it
        server.verify_directly_issued_by(foreign)
