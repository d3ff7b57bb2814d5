"""The local end of a tunnel: a PostgreSQL-aware relay that keeps TLS verified on both sides.

The app connects to 127.0.0.1 and sends SSLRequest; the relay answers ``S`` and completes TLS with a
certificate for 127.0.0.1 from a CA made for this run (its certificate is written beside the env file,
the URLs' ``sslrootcert``; its key never leaves memory). Towards the proxy it opens the tunnel, sends
SSLRequest and completes TLS with the delivered CA bundle, SNI and host-name check for the real
endpoint host. A client that does not ask for TLS, or a proxy that refuses it, is disconnected.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import struct
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography is the [connect] extra, not in the image: imported where a CA is made
    from cryptography import x509

__all__ = ["SSL_REQUEST", "LocalCa", "PgTlsRelay", "upstream_context"]

SSL_REQUEST = struct.pack("!ii", 8, 80877103)
GSSENC_REQUEST = struct.pack("!ii", 8, 80877104)
OpenUpstream = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


def _name(common: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _general_name(name: str) -> x509.GeneralName:
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


class LocalCa:
    """A CA and a server certificate for ``names`` (127.0.0.1 and localhost), valid for ``days``; the CA key
    stays in memory."""

    def __init__(self, days: int = 30, names: Sequence[str] = ("127.0.0.1", "localhost")) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.ca = (
            x509.CertificateBuilder()
            .subject_name(_name("upskill-operator connect local CA"))
            .issuer_name(_name("upskill-operator connect local CA"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        self.leaf = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(self.ca.subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )

    def ca_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.ca.public_bytes(serialization.Encoding.PEM)

    def server_context(self) -> ssl.SSLContext:
        """A server context with the leaf; its key passes through a private temporary folder only."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        from cryptography.hazmat.primitives import serialization

        key = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with tempfile.TemporaryDirectory(prefix="upskill-connect-") as folder:
            chain = Path(folder) / "chain.pem"
            chain.touch(mode=0o600)
            chain.write_bytes(key + self.leaf.public_bytes(serialization.Encoding.PEM))
            context.load_cert_chain(chain)
        return context


def upstream_context(ca_bundle: str) -> ssl.SSLContext:
    """Verify the proxy: the delivered CA bundle, certificate required, host name checked."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=ca_bundle)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        writer.close()


class PgTlsRelay:
    """Listens on 127.0.0.1:port and relays each PostgreSQL connection to ``host`` through ``open_upstream``."""

    def __init__(
        self,
        host: str,
        open_upstream: OpenUpstream,
        local: ssl.SSLContext,
        upstream: ssl.SSLContext,
        report: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.host, self._open, self._local, self._upstream, self._report = host, open_upstream, local, upstream, report
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        sock: socket.socket = self._server.sockets[0]
        return int(sock.getsockname()[1])

    async def start(self, port: int = 0) -> PgTlsRelay:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _client_tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        request = await reader.readexactly(8)
        if request == GSSENC_REQUEST:
            writer.write(b"N")
            await writer.drain()
            request = await reader.readexactly(8)
        if request != SSL_REQUEST:
            self._report("refused a client that did not ask for TLS (use sslmode=verify-full)")
            return False
        writer.write(b"S")
        await writer.drain()
        await writer.start_tls(self._local)
        return True

    async def _upstream_tls(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await self._open()
        writer.write(SSL_REQUEST)
        await writer.drain()
        answer = await reader.readexactly(1)
        if answer != b"S":
            writer.close()
            raise ConnectionError(f"{self.host} refused TLS (answered {answer!r})")
        await writer.start_tls(self._upstream, server_hostname=self.host)
        return reader, writer

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not await self._client_tls(reader, writer):
                writer.close()
                return
            up_reader, up_writer = await self._upstream_tls()
        except (ConnectionError, OSError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            self._report(f"connection to {self.host} failed: {type(exc).__name__}: {exc}")
            writer.close()
            return
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        except asyncio.CancelledError:  # connect is stopping: end quietly, both sides closed
            writer.close()
            up_writer.close()
