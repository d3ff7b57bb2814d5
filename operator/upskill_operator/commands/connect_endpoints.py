"""The database endpoints in delivered values, and the values with those hosts moved to local tunnels.

A value is a database endpoint when it is a ``postgres://``/``postgresql://`` URL, or a ``PGHOST`` key
(with its ``PGPORT`` sibling, 5432 when absent). Rewritten URLs keep ``sslmode=verify-full`` and point
``sslrootcert`` at the local CA; ``PGSSLROOTCERT`` likewise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["Endpoint", "endpoints", "region_of", "rewrite"]

LOCAL_HOST = "127.0.0.1"
_SCHEMES = ("postgres", "postgresql")
_RDS_HOST = re.compile(r"\.([a-z]{2}(?:-[a-z]+)+-\d)\.rds\.amazonaws\.com$")


@dataclass(frozen=True, order=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def _url_endpoint(value: str) -> Endpoint | None:
    if not value.startswith(tuple(f"{s}://" for s in _SCHEMES)):
        return None
    parts = urlsplit(value)
    if not parts.hostname:
        return None
    return Endpoint(parts.hostname, parts.port or 5432)


def _pg_pairs(values: Mapping[str, str]) -> dict[str, Endpoint]:
    """PGHOST key -> its endpoint (prefixed keys too: ``X_PGHOST`` goes with ``X_PGPORT``)."""
    out: dict[str, Endpoint] = {}
    for key, value in values.items():
        if key.endswith("PGHOST") and value and not value.startswith("/"):
            port = values.get(key[: -len("PGHOST")] + "PGPORT") or "5432"
            out[key] = Endpoint(value, int(port))
    return out


def endpoints(values: Mapping[str, str]) -> list[Endpoint]:
    """Every distinct database endpoint the values name, sorted."""
    found = {e for e in map(_url_endpoint, values.values()) if e is not None}
    return sorted(found | set(_pg_pairs(values).values()))


def _rewrite_url(value: str, port: int, ca_path: str) -> str:
    parts = urlsplit(value)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{LOCAL_HOST}:{port}" if userinfo else f"{LOCAL_HOST}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("sslmode", "sslrootcert")]
    query += [("sslmode", "verify-full"), ("sslrootcert", ca_path)]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="/"), parts.fragment))


def rewrite(values: Mapping[str, str], local_ports: Mapping[Endpoint, int], ca_path: str) -> dict[str, str]:
    """``values`` with every endpoint in ``local_ports`` replaced by 127.0.0.1 and its local port."""
    out = dict(values)
    for key, value in values.items():
        found = _url_endpoint(value)
        if found is not None and found in local_ports:
            out[key] = _rewrite_url(value, local_ports[found], ca_path)
    for key, endpoint in _pg_pairs(values).items():
        if endpoint in local_ports:
            prefix = key[: -len("PGHOST")]
            out[key], out[prefix + "PGPORT"] = LOCAL_HOST, str(local_ports[endpoint])
            out[prefix + "PGSSLROOTCERT"] = ca_path
            out[prefix + "PGSSLMODE"] = "verify-full"
    return out


def region_of(values: Mapping[str, str]) -> str | None:
    """The AWS region: a delivered ``AWS_REGION`` (prefixed or not), else an RDS host's region."""
    for key in sorted(values):
        if key.endswith("AWS_REGION") and values[key]:
            return values[key]
    for endpoint in endpoints(values):
        found = _RDS_HOST.search(endpoint.host)
        if found:
            return found.group(1)
    return None
