"""Backs every emulated Aurora cluster with a real PostgreSQL database, so its endpoints answer.

moto's clusters are records without a server behind them. The backer watches them (in-process,
through moto's backends: reading costs no API call and does not count as a describe) and, for
each cluster with an RDS-managed master secret, makes sure the PostgreSQL server of the sandbox
has:

- the master role (``MasterUsername``) with the password from the cluster's master secret, allowed
  to create databases and roles (Aurora's master user has ``rds_superuser``, which can), set again
  when the secret gets a new AWSCURRENT version (RDS rotated it, :mod:`.rds_rotation`), and
- the database ``DatabaseName``, owned by that role.

``Settings.endpoint_map`` then sends every ``*.rds.amazonaws.com`` host to that server (see
:meth:`ClusterBacker.endpoint_map`), so the writer, reader, proxy and read-only proxy endpoints
in ``status`` all reach the cluster's database.

One server stands in for every cluster, so two details differ from AWS, on purpose:

- roles are server-wide: clusters sharing a master user name share its password. The first
  cluster's password wins, and the backer writes it into the later clusters' master secrets
  (the secret stays the source of truth for clients);
- clusters that share a ``DatabaseName`` share the database (give clusters distinct names when
  that matters, as the tests do).

When a cluster is deleted its database is dropped (once no other cluster uses it).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from moto.rds.models import rds_backends
from psycopg import sql

from upskill_sandbox.rds_extension import replace_secret_value
from upskill_sandbox.rds_rotation import current_string

__all__ = ["BackedCluster", "ClusterBacker", "endpoint_target"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackedCluster:
    account: str
    region: str
    identifier: str
    database: str
    username: str


def endpoint_target(pg_url: str) -> str:
    """``host:port`` or ``/socket/dir:port`` of a PostgreSQL URL, for ``Settings.endpoint_map``."""
    info = psycopg.conninfo.conninfo_to_dict(pg_url)
    host = str(info.get("host") or "localhost").split(",")[0]
    port = str(info.get("port") or "5432").split(",")[0]
    return f"[{host}]:{port}" if ":" in host and not host.startswith("/") else f"{host}:{port}"


def _clusters() -> Iterator[tuple[str, str, Any]]:
    for account, regions in list(rds_backends.items()):
        for region, backend in list(regions.items()):
            for cluster in list(backend.clusters.values()):
                yield account, region, cluster


def _credentials(cluster: Any) -> tuple[Any, dict[str, str]] | None:
    holder = getattr(cluster, "master_user_secret", None)
    if holder is None or not cluster.database_name:
        return None
    secret = holder.secret
    try:
        value = json.loads(current_string(secret) or "")
    except (TypeError, ValueError):
        return None
    return secret, value


class ClusterBacker:
    """Keeps one PostgreSQL role and database per emulated cluster; polls moto in a thread."""

    def __init__(self, pg_url: str, interval: float = 0.25) -> None:
        """``pg_url``: the bed superuser's connection string (:meth:`.Backends.admin_conninfo`)."""
        self.pg_url = pg_url
        self.interval = interval
        self.backed: dict[tuple[str, str, str], BackedCluster] = {}
        self._passwords: dict[str, str] = {}
        self._versions: dict[tuple[str, str, str], str] = {}
        """The master secret's AWSCURRENT version id last seen, per cluster."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def endpoint_map(self) -> dict[str, str]:
        """The ``Settings.endpoint_map`` that sends every RDS host name to this server."""
        return {"*.rds.amazonaws.com": endpoint_target(self.pg_url)}

    def sync(self) -> list[BackedCluster]:
        """One pass: back new clusters, drop databases of deleted ones. Returns the clusters backed now."""
        with self._lock, psycopg.connect(self.pg_url, autocommit=True) as conn:
            conn.execute("SET password_encryption = 'scram-sha-256'")  # also on a DATABASE_URL server
            seen: set[tuple[str, str, str]] = set()
            new: list[BackedCluster] = []
            for account, region, cluster in _clusters():
                key = (account, region, cluster.db_cluster_identifier)
                found = _credentials(cluster)
                if found is None:
                    continue
                seen.add(key)
                secret, value = found
                username = str(value.get("username") or cluster.master_username)
                version = str(getattr(secret, "default_version_id", "") or "")
                if self._versions.get(key, version) != version:  # RDS rotated it: the role follows
                    self._passwords.pop(username, None)
                self._versions[key] = version
                self._role(conn, username, secret, value)
                if key not in self.backed:
                    self._database(conn, cluster.database_name, username)
                    self.backed[key] = BackedCluster(account, region, key[2], cluster.database_name, username)
                    new.append(self.backed[key])
            for key in [k for k in self.backed if k not in seen]:
                gone = self.backed.pop(key)
                self._versions.pop(key, None)
                if all(b.database != gone.database for b in self.backed.values()):
                    conn.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(gone.database))
                    )
            return new

    def _role(self, conn: psycopg.Connection[Any], username: str, secret: Any, value: dict[str, str]) -> None:
        password = str(value.get("password") or "")
        known = self._passwords.get(username)
        if known is None:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (username,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL(verb + " ROLE {} WITH LOGIN CREATEDB CREATEROLE PASSWORD {}").format(
                    sql.Identifier(username), sql.Literal(password)
                )
            )
            # Aurora's master (rds_superuser) may grant rds_iam to the users it makes (PostgreSQL 16+ needs ADMIN)
            # without having to log in with IAM itself: no INHERIT, so the fronts (USAGE) do not treat it as IAM
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'").fetchone():
                conn.execute(
                    sql.SQL("GRANT rds_iam TO {} WITH ADMIN OPTION, INHERIT FALSE").format(sql.Identifier(username))
                )
            self._passwords[username] = password
        elif known != password:
            replace_secret_value(secret, {**value, "password": known})

    @staticmethod
    def _database(conn: psycopg.Connection[Any], database: str, owner: str) -> None:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            return
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(owner)))

    def start(self) -> ClusterBacker:
        def loop() -> None:
            while not self._stop.wait(self.interval):
                try:
                    self.sync()
                except Exception:  # the sandbox keeps going; the next pass retries
                    log.exception("backing emulated clusters with PostgreSQL failed")

        self._thread = threading.Thread(target=loop, name="rds-backer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> ClusterBacker:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
