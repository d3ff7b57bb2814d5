"""One client session on an emulated RDS endpoint: TLS, the login as RDS checks it, then a relay.

- **Proxy endpoints** (RDS Proxy): TLS when the proxy's ``RequireTLS`` (always for an IAM login);
  the user must own a secret in the proxy's ``Auth``; ``IAMAuth: REQUIRED`` takes an IAM auth
  token as the (cleartext) password and nothing else, ``DISABLED`` a SCRAM-SHA-256 exchange
  against the secret's password. The front then logs into the backend with the secret's
  credentials, as the proxy does, and relays.
- **Cluster and instance endpoints** (Aurora itself, ``rds.force_ssl=1``): TLS always; a role in
  ``rds_iam`` on a cluster with IAM database authentication logs in with a token only; any other
  login is relayed to the backend, which checks the password itself.

Refusals are ErrorResponses with PostgreSQL's SQLSTATEs (28000, 28P01, 08P01); no message holds a
password or a token. Cancel requests are not forwarded (the connection is closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import struct
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from upskill_sandbox import pg_wire as wire
from upskill_sandbox.dataplane_types import Backend
from upskill_sandbox.iam_token import TokenRefusedError, verify_token
from upskill_sandbox.rds_topology import AuthEntry, Endpoint
from upskill_sandbox.scram import ScramClient, ScramError, ScramServer

__all__ = ["Policy", "Refused", "serve"]

log = logging.getLogger(__name__)


class Refused(Exception):  # noqa: N818 - a refusal sent to the client, not a bug
    def __init__(self, sqlstate: str, text: str) -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


@dataclass
class Policy:
    """What a session on one endpoint needs, looked up when the client arrives."""

    endpoint: Endpoint
    listen: str
    """``127.0.0.1:<port>``: a token may be signed for it or for the AWS host and port."""
    backend: Backend
    read_only_options: bool
    """No standby behind a reader: sessions get ``default_transaction_read_only=on``."""
    tls: ssl.SSLContext
    keys: Mapping[str, str]
    require_tls: Callable[[], bool]
    proxy_entries: Callable[[], list[AuthEntry]]
    iam_login: Callable[[str, str], Awaitable[str | None]]
    """(user, dbname) -> a password the front may use for that role on the backend when the role must log
    in with IAM (cluster endpoints), else None."""
    database_of: Callable[[str], str] = str
    """The database a client names (the cluster's ``DatabaseName``) -> the cluster's own database on the server."""
    counts: dict[str, int] = field(default_factory=dict)


async def _startup(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, policy: Policy) -> dict[str, str]:
    """Answer SSL/GSSENC requests (upgrading to TLS) until the StartupMessage; return its parameters."""
    while True:
        code, body = await wire.read_packet(reader)
        if code == wire.SSL_REQUEST:
            if writer.get_extra_info("ssl_object") is not None:
                raise Refused("08P01", "SSLRequest on an encrypted connection")
            writer.write(b"S")
            await writer.drain()
            await writer.start_tls(policy.tls)
        elif code == wire.GSSENC_REQUEST:
            writer.write(b"N")
            await writer.drain()
        elif code == wire.CANCEL_REQUEST:
            raise Refused("08P01", "cancel requests are not relayed by the emulated endpoint")
        elif code == wire.PROTOCOL_3:
            return wire.startup_params(body)
        else:
            raise Refused("08P01", f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}")


async def _password(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
    writer.write(wire.auth_message(wire.AUTH_CLEARTEXT))
    await writer.drain()
    kind, body = await wire.read_message(reader)
    if kind != b"p":
        raise Refused("08P01", "expected a password message")
    return body.rstrip(b"\0").decode("utf-8", "replace")


async def _scram_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, user: str, password: str) -> None:
    writer.write(wire.auth_message(wire.AUTH_SASL, b"SCRAM-SHA-256\0\0"))
    await writer.drain()
    failed = Refused("28P01", f'password authentication failed for user "{user}"')
    kind, body = await wire.read_message(reader)
    if kind != b"p":
        raise failed
    mechanism, first = wire.sasl_initial(body)
    if mechanism != "SCRAM-SHA-256":
        raise Refused("28000", f"SASL mechanism {mechanism[:40]!r} is not offered")
    server = ScramServer(password)
    try:
        writer.write(wire.auth_message(wire.AUTH_SASL_CONTINUE, server.first(first.decode()).encode()))
        await writer.drain()
        kind, body = await wire.read_message(reader)
        if kind != b"p":
            raise failed
        writer.write(wire.auth_message(wire.AUTH_SASL_FINAL, server.final(body.decode()).encode()))
    except (ScramError, UnicodeDecodeError):
        raise failed from None


async def _backend_login(
    backend: Backend, params: dict[str, str], password: str | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    """Open a backend session; with ``password`` log in with it (SCRAM), else return the first auth reply raw."""
    if backend.host.startswith("/"):
        reader, writer = await asyncio.open_unix_connection(f"{backend.host}/.s.PGSQL.{backend.port}")
    else:
        reader, writer = await asyncio.open_connection(backend.host, backend.port)
    writer.write(wire.startup_message(params))
    await writer.drain()
    if password is None:
        return reader, writer, b""
    client = ScramClient(password)
    while True:
        kind, body = await wire.read_message(reader)
        if kind == b"E":
            writer.close()
            raise Refused("28P01", "the emulated endpoint could not log in to its database")
        code = struct.unpack("!I", body[:4])[0]
        if code == wire.AUTH_OK:
            return reader, writer, wire.message(kind, body)
        if code == wire.AUTH_SASL:
            first = client.first().encode()
            payload = b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first
            writer.write(wire.message(b"p", payload))
        elif code == wire.AUTH_SASL_CONTINUE:
            writer.write(wire.message(b"p", client.final(body[4:].decode()).encode()))
        elif code == wire.AUTH_SASL_FINAL:
            client.verify(body[4:].decode())
        else:
            writer.close()
            raise Refused("28000", f"backend asked for authentication method {code}")
        await writer.drain()


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _check_token(policy: Policy, token: str, user: str) -> None:
    endpoint = policy.endpoint
    hosts = [policy.listen, f"{endpoint.host}:{endpoint.port}"]
    try:
        verify_token(token, hosts=hosts, user=user, region=endpoint.region, keys=policy.keys)
    except TokenRefusedError as refused:
        raise Refused("28P01", f'PAM authentication failed for user "{user}" (IAM: {refused})') from None


async def _authenticate(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, policy: Policy, params: dict[str, str]
) -> tuple[dict[str, str], str | None]:
    """Check the client as RDS would; return the backend startup parameters and the password to use there."""
    user, encrypted = params.get("user", ""), writer.get_extra_info("ssl_object") is not None
    if policy.endpoint.kind == "proxy":
        if policy.require_tls() and not encrypted:
            raise Refused("28000", "This RDS Proxy requires TLS connections")
        entry = next((e for e in policy.proxy_entries() if e.username == user), None)
        if entry is None:
            raise Refused("28000", f'no secret in the proxy\'s Auth is for user "{user}"')
        if entry.iam_required:
            if not encrypted:
                raise Refused("28000", "IAM authentication requires TLS connections")
            _check_token(policy, await _password(reader, writer), user)
        else:
            await _scram_server(reader, writer, user, entry.password)
        return params, entry.password
    if not encrypted:
        host = policy.listen.partition(":")[0]
        raise Refused("28000", f'no pg_hba.conf entry for host "{host}", user "{user}", SSL off')
    internal = await policy.iam_login(user, params.get("database", user))
    if internal is None:
        return params, None  # the backend checks the client's password itself
    _check_token(policy, await _password(reader, writer), user)
    return params, internal


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, policy: Policy) -> None:
    """One client connection, start to end."""
    counts = policy.counts
    try:
        params = await _startup(reader, writer, policy)
        params, password = await _authenticate(reader, writer, policy, params)
        asked = params.get("database") or params.get("user", "")
        params = {**params, "database": policy.database_of(asked)}
        if policy.read_only_options:
            params = {**params, "options": (params.get("options", "") + " -c default_transaction_read_only=on").strip()}
        b_reader, b_writer, first = await _backend_login(policy.backend, params, password)
        if first:
            writer.write(first)  # AuthenticationOk; ParameterStatus and ReadyForQuery follow in the relay
            await writer.drain()
        counts["sessions"] = counts.get("sessions", 0) + 1
        await asyncio.gather(_relay(reader, b_writer), _relay(b_reader, writer))
    except Refused as refused:
        counts["refused"] = counts.get("refused", 0) + 1
        log.info("emulated endpoint %s refused a login: %s", policy.endpoint.host, refused)
        with contextlib.suppress(Exception):
            writer.write(wire.error_response(refused.sqlstate, str(refused)))
            await writer.drain()
    except (wire.WireError, ScramError, ConnectionError, OSError, ssl.SSLError) as broken:
        log.debug("session on %s ended: %s", policy.endpoint.host, type(broken).__name__)
    finally:
        with contextlib.suppress(Exception):
            writer.close()
