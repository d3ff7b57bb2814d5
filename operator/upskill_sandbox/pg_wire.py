"""The PostgreSQL v3 wire protocol, as far as an emulated RDS endpoint needs it.

A front reads the client's first packets (SSLRequest, GSSENCRequest, CancelRequest, the
StartupMessage), runs the authentication exchange itself or hands it to the backend, and then
relays bytes. Messages after the startup are ``type byte + int32 length (itself included) + body``.
"""

from __future__ import annotations

import asyncio
import struct

__all__ = [
    "AUTH_CLEARTEXT",
    "AUTH_OK",
    "AUTH_SASL",
    "AUTH_SASL_CONTINUE",
    "AUTH_SASL_FINAL",
    "CANCEL_REQUEST",
    "GSSENC_REQUEST",
    "PROTOCOL_3",
    "SSL_REQUEST",
    "WireError",
    "auth_message",
    "error_response",
    "message",
    "read_message",
    "read_packet",
    "sasl_initial",
    "startup_message",
    "startup_params",
]

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
PROTOCOL_3 = 196608
AUTH_OK, AUTH_CLEARTEXT, AUTH_SASL, AUTH_SASL_CONTINUE, AUTH_SASL_FINAL = 0, 3, 10, 11, 12
MAX_STARTUP = 10_000
MAX_MESSAGE = 1 << 24


class WireError(Exception):
    """The peer broke the protocol (or went away mid-message)."""


async def read_packet(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """A length-prefixed packet without a type byte (the startup phase): (code, rest)."""
    try:
        head = await reader.readexactly(8)
        length, code = struct.unpack("!II", head)
        if not 8 <= length <= MAX_STARTUP:
            raise WireError(f"startup packet length {length} out of range")
        return code, await reader.readexactly(length - 8)
    except asyncio.IncompleteReadError:
        raise WireError("connection closed during startup") from None


def startup_params(body: bytes) -> dict[str, str]:
    """The key/value pairs of a StartupMessage body (after the protocol code)."""
    parts = body.split(b"\0")
    if len(parts) < 2 or parts[-1] != b"" or parts[-2] != b"":
        raise WireError("malformed startup message")
    fields = [p.decode("utf-8", "replace") for p in parts[:-2]]
    if len(fields) % 2:
        raise WireError("malformed startup message")
    return dict(zip(fields[::2], fields[1::2], strict=True))


def startup_message(params: dict[str, str]) -> bytes:
    body = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items()) + b"\0"
    return struct.pack("!II", len(body) + 8, PROTOCOL_3) + body


async def read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """(type byte, body) of one regular message."""
    try:
        head = await reader.readexactly(5)
        length = struct.unpack("!I", head[1:])[0]
        if not 4 <= length <= MAX_MESSAGE:
            raise WireError(f"message length {length} out of range")
        return head[:1], await reader.readexactly(length - 4)
    except asyncio.IncompleteReadError:
        raise WireError("connection closed mid-message") from None


def message(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


def auth_message(code: int, extra: bytes = b"") -> bytes:
    return message(b"R", struct.pack("!I", code) + extra)


def error_response(sqlstate: str, text: str, severity: str = "FATAL") -> bytes:
    fields = [(b"S", severity), (b"V", severity), (b"C", sqlstate), (b"M", text)]
    return message(b"E", b"".join(tag + value.encode() + b"\0" for tag, value in fields) + b"\0")


def sasl_initial(body: bytes) -> tuple[str, bytes]:
    """SASLInitialResponse body -> (mechanism, client-first-message)."""
    mechanism, sep, rest = body.partition(b"\0")
    if not sep or len(rest) < 4:
        raise WireError("malformed SASLInitialResponse")
    size = struct.unpack("!i", rest[:4])[0]
    data = rest[4:] if size >= 0 else b""
    return mechanism.decode("ascii", "replace"), data
