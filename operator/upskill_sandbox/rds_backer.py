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

One server stands in for every cluster, so roles are server-wide: clusters sharing a master user
name share its password. The first cluster's password wins, and the backer writes it into the later
clusters' master secrets (the secret stays the source of truth for clients).

Each cluster has a physical database of its own: ``DatabaseName`` itself while no other backed cluster
uses that name (so a client reaching the server directly, without the fronts, finds it), else
``<DatabaseName>_<hash of the identifier>``. The physical name is set on the moto cluster
(``_upskill_database``) and the fronts (:mod:`.pg_session`) rewrite the database a client asks for
(the cluster's ``DatabaseName``) to it, so a restored cluster beside its live source has its own data.

Snapshots carry data (:mod:`.snapshot_data`): a manual or final snapshot is a ``pg_dump`` of the
cluster's database taken before the snapshot is answered (a final one before the cluster goes), and a
cluster restored from a snapshot starts from that dump. With ``timeline_seconds`` above 0 the backer
also keeps timeline copies for restores to a point in time. When a cluster is deleted its database is dropped.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from moto.rds.models import rds_backends
from psycopg import sql

from upskill_sandbox.rds_extension import replace_secret_value
from upskill_sandbox.rds_restore import LATEST, RESTORED_FROM, SNAPSHOT_DROP_HOOKS, SNAPSHOT_HOOKS
from upskill_sandbox.rds_rotation import current_string
from upskill_sandbox.snapshot_data import SnapshotStore, physical_name

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

    def __init__(self, pg_url: str, interval: float = 0.25, timeline_seconds: float = 0.0) -> None:
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
        self.snapshots = SnapshotStore(pg_url)
        self.timeline_seconds = timeline_seconds
        """Above 0: copy every backed cluster's database that often, for restores to a point in time."""
        self._marked: dict[tuple[str, str, str], float] = {}

    def endpoint_map(self) -> dict[str, str]:
        """The ``Settings.endpoint_map`` that sends every RDS host name to this server."""
        return {"*.rds.amazonaws.com": endpoint_target(self.pg_url)}

    def sync(self) -> list[BackedCluster]:
        """One pass: back new clusters, drop databases of deleted ones. Returns the clusters backed now."""
        with self._lock, psycopg.connect(self.pg_url, autocommit=True) as conn:
            conn.execute("SET password_encryption = 'scram-sha-256'")  # also on a DATABASE_URL server
            current = {(a, r, c.db_cluster_identifier): c for a, r, c in _clusters() if _credentials(c) is not None}
            for key in [k for k in self.backed if k not in current]:
                gone = self.backed.pop(key)
                self._versions.pop(key, None)
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(gone.database)))
            new: list[BackedCluster] = []
            for key, cluster in current.items():
                found = _credentials(cluster)
                if found is None:
                    continue
                secret, value = found
                username = str(value.get("username") or cluster.master_username)
                version = str(getattr(secret, "default_version_id", "") or "")
                if self._versions.get(key, version) != version:  # RDS rotated it: the role follows
                    self._passwords.pop(username, None)
                self._versions[key] = version
                self._role(conn, username, secret, value)
                if key not in self.backed:
                    taken = {b.database for b in self.backed.values()}
                    database = physical_name(cluster.database_name, key[2], taken)
                    self._database(conn, database, username, key, getattr(cluster, RESTORED_FROM, None))
                    self.backed[key] = BackedCluster(key[0], key[1], key[2], database, username)
                    new.append(self.backed[key])
                cluster.__dict__["_upskill_database"] = self.backed[key].database
                self._timeline(key, cluster)
            return new

    def _timeline(self, key: tuple[str, str, str], cluster: Any) -> None:
        if self.timeline_seconds <= 0 or time.monotonic() - self._marked.get(key, 0.0) < self.timeline_seconds:
            return
        self._marked[key] = time.monotonic()
        cluster.__dict__[LATEST] = self.snapshots.mark(key[0], key[1], key[2], self.backed[key].database)

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

    def _database(
        self,
        conn: psycopg.Connection[Any],
        database: str,
        owner: str,
        key: tuple[str, str, str],
        restored_from: tuple[str, ...] | None,
    ) -> None:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            if not restored_from:
                return
            # a leftover no backed cluster uses: a restored cluster starts from its snapshot, never from that
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))
        if not restored_from:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(owner)))
            return
        # Filled under another name, then renamed: no client (a migration run) ever sees it half restored.
        filling = f"{database[:50]}_restoring"
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(filling)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(filling), sql.Identifier(owner)))
        live = None
        if restored_from[0] == "time" and (source := self.backed.get((key[0], key[1], restored_from[1]))):
            live = source.database
        self.snapshots.restore(key[0], key[1], restored_from, filling, live)
        conn.execute(
            sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(filling), sql.Identifier(database))
        )

    def _snapshot_taken(self, account: str, region: str, cluster: str, snapshot: str) -> None:
        with self._lock:
            backed = self.backed.get((account, region, cluster))
            if backed is None:
                log.warning(
                    "snapshot %s of cluster %s: the cluster has no database yet; it holds no data", snapshot, cluster
                )
                return
            self.snapshots.take(account, region, snapshot, backed.database)

    def _snapshot_dropped(self, account: str, region: str, cluster: str, snapshot: str) -> None:
        self.snapshots.drop(account, region, snapshot)

    def start(self) -> ClusterBacker:
        SNAPSHOT_HOOKS.append(self._snapshot_taken)
        SNAPSHOT_DROP_HOOKS.append(self._snapshot_dropped)

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
        for hooks, hook in ((SNAPSHOT_HOOKS, self._snapshot_taken), (SNAPSHOT_DROP_HOOKS, self._snapshot_dropped)):
            if hook in hooks:
                hooks.remove(hook)
        self.snapshots.close()

    def __enter__(self) -> ClusterBacker:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
