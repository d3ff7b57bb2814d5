"""What the emulated RDS API says about endpoints, read in-process from moto's backends.

The fronts (:mod:`.pg_front`) need, for every endpoint a client may be given: which server is
behind it (the writer or a reader), and what the endpoint lets in. For a proxy that is its
``RequireTLS`` and ``Auth`` entries, each resolved to the user name and password of its secret
(AWSCURRENT); for a cluster or instance endpoint, whether IAM database authentication is on.
Reading moto's objects costs no API call, so polling does not show up as describe traffic.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from moto.rds.models import rds_backends
from moto.secretsmanager.models import secretsmanager_backends

from upskill_sandbox.rds_endpoints import endpoints as proxy_endpoints
from upskill_sandbox.rds_rotation import current_string

__all__ = ["AuthEntry", "Endpoint", "auth_entries", "endpoints"]

PROXY_PORT = 5432
"""An RDS Proxy for PostgreSQL listens on 5432 (DescribeDBProxies reports no port)."""

Role = Literal["writer", "reader"]


@dataclass(frozen=True)
class Endpoint:
    """One endpoint as a client sees it: its AWS host and port, and what it is."""

    host: str
    port: int
    kind: Literal["proxy", "cluster"]
    role: Role
    account: str
    region: str
    name: str
    """The proxy's name (kind proxy) or the cluster's identifier (kind cluster)."""


@dataclass(frozen=True)
class AuthEntry:
    """One entry of a proxy's Auth, with its secret's credentials (never logged)."""

    username: str
    password: str
    iam_required: bool


def _backends() -> Iterator[tuple[str, str, Any]]:
    for account, regions in list(rds_backends.items()):
        for region, backend in list(regions.items()):
            yield account, region, backend


def _cluster_endpoints(account: str, region: str, backend: Any) -> Iterator[Endpoint]:
    for cluster in list(backend.clusters.values()):
        ident = cluster.db_cluster_identifier
        port = int(cluster.port or PROXY_PORT)
        yield Endpoint(cluster.endpoint.lower(), port, "cluster", "writer", account, region, ident)
        yield Endpoint(cluster.reader_endpoint.lower(), port, "cluster", "reader", account, region, ident)
    for instance in list(backend.databases.values()):
        ident = getattr(instance, "db_cluster_identifier", None)
        if not ident or ident not in backend.clusters:
            continue
        role: Role = "writer" if getattr(instance, "is_cluster_writer", False) else "reader"
        port = int(instance.port or PROXY_PORT)
        yield Endpoint(instance.address.lower(), port, "cluster", role, account, region, ident)


def _proxy_endpoints(account: str, region: str, backend: Any) -> Iterator[Endpoint]:
    for proxy in list(backend.db_proxies.values()):
        name = proxy.db_proxy_name
        yield Endpoint(proxy.endpoint.lower(), PROXY_PORT, "proxy", "writer", account, region, name)
    for record in list(proxy_endpoints(backend).values()):
        role: Role = "reader" if record.target_role == "READ_ONLY" else "writer"
        yield Endpoint(record.host.lower(), PROXY_PORT, "proxy", role, account, region, record.proxy_name)


def endpoints() -> list[Endpoint]:
    """Every endpoint of every account and region, now."""
    found: list[Endpoint] = []
    for account, region, backend in _backends():
        found += _cluster_endpoints(account, region, backend)
        found += _proxy_endpoints(account, region, backend)
    return found


def _backend(endpoint: Endpoint) -> Any:
    return rds_backends[endpoint.account][endpoint.region]


def cluster_of(endpoint: Endpoint) -> Any | None:
    """The cluster behind an endpoint: its own, or the one a proxy's default target group tracks."""
    backend = _backend(endpoint)
    if endpoint.kind == "cluster":
        return backend.clusters.get(endpoint.name)
    proxy = backend.db_proxies.get(endpoint.name)
    if proxy is None:
        return None
    for target in list(proxy.proxy_target_groups["default"].targets):
        if target.rds_resource_id in backend.clusters:
            return backend.clusters[target.rds_resource_id]
    return None


def iam_enabled(endpoint: Endpoint) -> bool:
    """IAM database authentication on the endpoint's cluster."""
    cluster = cluster_of(endpoint)
    return bool(cluster is not None and getattr(cluster, "iam_auth", False))


def proxy_requires_tls(endpoint: Endpoint) -> bool:
    proxy = _backend(endpoint).db_proxies.get(endpoint.name)
    return bool(proxy is None or proxy.require_tls)


def _secret_value(account: str, region: str, arn: str) -> dict[str, Any] | None:
    store = secretsmanager_backends[account][region].secrets
    secret = next((s for s in list(store.values()) if getattr(s, "arn", None) == arn), None)
    if secret is None or getattr(secret, "deleted_date", None):
        return None
    try:
        value = json.loads(current_string(secret) or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def auth_entries(endpoint: Endpoint) -> list[AuthEntry]:
    """The proxy's Auth entries whose secret holds a username and password (as RDS Proxy needs)."""
    proxy = _backend(endpoint).db_proxies.get(endpoint.name)
    entries: list[AuthEntry] = []
    for auth in list(getattr(proxy, "auth", None) or []):
        arn = auth.get("SecretArn")
        value = _secret_value(endpoint.account, endpoint.region, str(arn)) if arn else None
        if value and value.get("username") and value.get("password"):
            required = str(auth.get("IAMAuth", "DISABLED")).upper() == "REQUIRED"
            entries.append(AuthEntry(str(value["username"]), str(value["password"]), required))
    return entries
