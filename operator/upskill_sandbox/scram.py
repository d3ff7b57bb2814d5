"""SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it, both sides.

The server side checks a client against a known plaintext password (an RDS Proxy checks the
password in the user's secret); the client side logs a front into a backend. Channel binding is
not offered: a client-first message with ``p=`` is refused, ``n`` and ``y`` are accepted.
PostgreSQL sends an empty user name in the SCRAM messages (the startup packet names the user).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["ITERATIONS", "MECHANISM", "ScramClient", "ScramError", "ScramServer"]

MECHANISM = "SCRAM-SHA-256"
ITERATIONS = 4096


class ScramError(Exception):
    """A malformed or failed exchange (the message never holds a password or proof)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _keys(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return _hmac(salted, "Client Key"), _hmac(salted, "Server Key")


def _attrs(message: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in message.split(","):
        name, sep, value = part.partition("=")
        if not sep or len(name) != 1:
            raise ScramError("malformed SCRAM message")
        out.setdefault(name, value)
    return out


class ScramServer:
    """One server-side exchange against ``password``: :meth:`first`, then :meth:`final`."""

    def __init__(self, password: str, *, salt: bytes | None = None, nonce: str | None = None) -> None:
        self._salt = salt or secrets.token_bytes(16)
        self._client_key, self._server_key = _keys(password, self._salt, ITERATIONS)
        self._nonce_part = nonce or _b64(secrets.token_bytes(18))
        self._first_bare = ""
        self._server_first = ""
        self._header = ""

    def first(self, client_first: str) -> str:
        gs2, _, rest = client_first.partition(",")
        authzid, _, bare = rest.partition(",")
        if gs2.startswith("p"):
            raise ScramError("channel binding is not supported (SCRAM-SHA-256-PLUS is not offered)")
        if gs2 not in ("n", "y") or authzid:
            raise ScramError("malformed SCRAM client-first message")
        nonce = _attrs(bare).get("r", "")
        if not nonce:
            raise ScramError("SCRAM client nonce missing")
        self._header = f"{gs2},,"
        self._first_bare = bare
        self._nonce = nonce + self._nonce_part
        self._server_first = f"r={self._nonce},s={_b64(self._salt)},i={ITERATIONS}"
        return self._server_first

    def final(self, client_final: str) -> str:
        """The server-final message; raises :class:`ScramError` when the proof is wrong."""
        attrs = _attrs(client_final)
        if attrs.get("c") != _b64(self._header.encode()) or attrs.get("r") != self._nonce:
            raise ScramError("SCRAM channel binding or nonce mismatch")
        without_proof = client_final.rsplit(",p=", 1)[0]
        auth = f"{self._first_bare},{self._server_first},{without_proof}"
        try:
            proof = base64.b64decode(attrs.get("p", ""), validate=True)
        except ValueError:
            raise ScramError("malformed SCRAM proof") from None
        signature = _hmac(hashlib.sha256(self._client_key).digest(), auth)
        key = bytes(a ^ b for a, b in zip(proof, signature, strict=False))
        if len(proof) != len(signature) or not hmac.compare_digest(
            hashlib.sha256(key).digest(), hashlib.sha256(self._client_key).digest()
        ):
            raise ScramError("password authentication failed")
        return f"v={_b64(_hmac(self._server_key, auth))}"


class ScramClient:
    """One client-side exchange with ``password``: :meth:`first`, :meth:`final`, :meth:`verify`."""

    def __init__(self, password: str, *, nonce: str | None = None) -> None:
        self._password = password
        self._nonce = nonce or _b64(secrets.token_bytes(18))
        self._bare = f"n=,r={self._nonce}"
        self._signature = b""

    def first(self) -> str:
        return f"n,,{self._bare}"

    def final(self, server_first: str) -> str:
        attrs = _attrs(server_first)
        nonce, salt, count = attrs.get("r", ""), attrs.get("s", ""), attrs.get("i", "")
        if not nonce.startswith(self._nonce) or not salt or not count.isdigit():
            raise ScramError("malformed SCRAM server-first message")
        client_key, server_key = _keys(self._password, base64.b64decode(salt), int(count))
        without_proof = f"c=biws,r={nonce}"
        auth = f"{self._bare},{server_first},{without_proof}"
        signature = _hmac(hashlib.sha256(client_key).digest(), auth)
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        self._signature = _hmac(server_key, auth)
        return f"{without_proof},p={_b64(proof)}"

    def verify(self, server_final: str) -> None:
        if not hmac.compare_digest(_attrs(server_final).get("v", ""), _b64(self._signature)):
            raise ScramError("the server's SCRAM signature does not match")
