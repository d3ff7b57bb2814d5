"""How the operator connects to an UpskillDatabase: endpoint, mapped host, TLS and credentials.

One place decides it for the probes, the operator-driven migrations and the ``migrate`` and
``check`` commands:

* endpoints: the proxy's read/write and read-only endpoints when there is a proxy, else the
  cluster's writer and reader endpoints, from status.endpoints and status.port;
* the host goes through ``Settings.endpoint_map`` (the sandbox, a tunnel); TLS is required
  when the proxy requires it and the host is the real AWS name, and the certificate is verified
  (``verify-full``) whenever ``Settings.db_ca_bundle`` names the RDS CA bundle;
* credentials: an IAM auth token for the AWS host when the proxy requires IAM auth, else the
  master password from the RDS-managed secret, re-read at most once a minute so a rotation is
  picked up. Values are ``SecretStr`` until the moment of use. Given the resource's ``owner``
  (the operator always gives it), the secret is the one RDS names for the cluster in
  status.clusterIdentifier, and only when that cluster carries the owner tag (see
  :mod:`.master_secret`): a forged status cannot point the operator at another database's password.
  Without it (a person's own ``migrate --database-url`` style use) status.masterUserSecretArn is used.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from psycopg.conninfo import make_conninfo
from pydantic import SecretStr

from upskill_operator import endpoints
from upskill_operator.adapters.database.master_secret import own_master_secret
from upskill_operator.aws.rds_auth import RdsAuth
from upskill_operator.aws.rds_passwords import RdsPasswords
from upskill_operator.aws.secretsmanager import SecretsManager
from upskill_operator.aws.session import AwsClients
from upskill_operator.config import Settings
from upskill_operator.errors import RecoverableError, TerminalError
from upskill_operator.models.database import DatabaseSpec

__all__ = ["DbConnection", "connections", "endpoint_labels", "password_reader"]

Credential = Callable[[], SecretStr]


@dataclass(frozen=True)
class DbConnection:
    label: str
    """proxy, proxyReadOnly, writer or reader."""
    aws_host: str
    port: int
    conninfo: str
    """libpq parameters without the password: safe to log."""
    credential: Credential = lambda: SecretStr("")

    def password_kwargs(self) -> dict[str, Any]:
        """``{"password": ...}`` for psycopg.connect, fetched now (a token, or the cached master password)."""
        return {"password": self.credential().get_secret_value()}

    def __repr__(self) -> str:
        return f"DbConnection({self.label}, {self.conninfo!r})"


def endpoint_labels(spec: DatabaseSpec) -> tuple[str, str]:
    """The read/write and read-only endpoint labels for this database, in that order."""
    return ("proxy", "proxyReadOnly") if spec.proxy.enabled else ("writer", "reader")


_cache: dict[str, tuple[float, SecretStr]] = {}
_cache_lock = threading.Lock()


def password_reader(aws: AwsClients, secret_arn: str, max_age: float = 60.0) -> Credential:
    """The ``password`` field of an RDS-managed secret (JSON), cached per process for ``max_age`` seconds."""

    def read() -> SecretStr:
        with _cache_lock:
            cached = _cache.get(secret_arn)
        if cached and time.monotonic() - cached[0] < max_age:
            return cached[1]
        raw = SecretsManager(aws).get_secret_value(secret_arn).value.get_secret_value()
        try:
            password = SecretStr(str(json.loads(raw)["password"]))
        except (ValueError, KeyError, TypeError):
            raise TerminalError(
                "the master user secret does not hold a JSON object with a password", reason="BadMasterSecret"
            ) from None
        with _cache_lock:
            _cache[secret_arn] = (time.monotonic(), password)
        return password

    return read


def _verified(aws: AwsClients, status: Mapping[str, Any], owner: str) -> Credential:
    """The master password of the cluster RDS shows is ``owner``'s, checked on every read of the secret."""
    identifier = status.get("clusterIdentifier")
    if not identifier:
        raise RecoverableError("status.clusterIdentifier is not known yet", reason="CredentialsPending")

    def read() -> SecretStr:
        arn = own_master_secret(RdsPasswords(aws), str(identifier), owner, "status.clusterIdentifier")
        if arn is None:
            raise RecoverableError("the cluster reports no master user secret yet", reason="CredentialsPending")
        return password_reader(aws, arn)()

    return read


def _credential(
    spec: DatabaseSpec, status: Mapping[str, Any], aws: AwsClients, host: str, port: int, owner: str | None
) -> Credential:
    if spec.proxy.enabled and spec.proxy.iam_auth == "Required":
        user = spec.master_user.username
        return lambda: RdsAuth(aws).token(host, port, user)
    if owner is not None:
        return _verified(aws, status, owner)
    arn = status.get("masterUserSecretArn")
    if not arn:
        raise RecoverableError("status.masterUserSecretArn is not known yet", reason="CredentialsPending")
    return password_reader(aws, str(arn))


def _tls(mode: str, ca_bundle: str | None, mapped: bool) -> dict[str, str]:
    """libpq TLS parameters: verify-full whenever a CA bundle is configured (mapped hosts too: the sandbox's
    certificate names 127.0.0.1); without one, a mapped host (a tunnel) only prefers TLS."""
    if ca_bundle:
        return {"sslmode": "verify-full", "sslrootcert": ca_bundle}
    if mapped:
        return {"sslmode": "prefer"}
    return {"sslmode": mode}


def connections(
    spec: DatabaseSpec,
    status: Mapping[str, Any],
    settings: Settings,
    aws: AwsClients,
    labels: tuple[str, ...] | None = None,
    owner: str | None = None,
) -> list[DbConnection]:
    """One :class:`DbConnection` per endpoint published in status (read/write first), or [] if none is yet."""
    found = status.get("endpoints") or {}
    port = int(status.get("port") or 5432)
    tls = "require" if spec.proxy.enabled and spec.proxy.require_tls else "prefer"
    out = []
    for label in labels or endpoint_labels(spec):
        host = found.get(label)
        if not host:
            continue
        real_host, real_port = endpoints.resolve(str(host), port, settings)
        mapped = (real_host, real_port) != (host, port)
        tls_params = _tls(tls, settings.db_ca_bundle, mapped)
        conninfo = make_conninfo(
            host=real_host,
            port=str(real_port),
            dbname=spec.database_name,
            user=spec.master_user.username,
            connect_timeout=str(max(1, round(settings.probe_timeout_seconds))),
            **tls_params,
        )
        credential = _credential(spec, status, aws, str(host), port, owner)
        out.append(DbConnection(label, str(host), port, conninfo, credential))
    return out
