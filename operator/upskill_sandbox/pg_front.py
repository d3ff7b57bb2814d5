"""The emulated RDS data plane: one TLS listener per endpoint the emulated RDS API reports.

Every 0.25 s the fronts read moto's backends (:mod:`.rds_topology`) and keep one listener on
``127.0.0.1:<port>`` per cluster writer and reader endpoint, instance, proxy and proxy endpoint
(stable for the endpoint's life), and write ``map_file``: ``{aws host: "127.0.0.1:<port>"}``,
which ``Settings.endpoint_map_file`` points the operator (and so the delivered URLs) at. Sessions
are checked and relayed by :mod:`.pg_session`: writers and READ_WRITE proxy endpoints reach the
primary, readers and READ_ONLY proxy endpoints the standby.

An IAM login on a cluster endpoint must reach the backend as that role, whose password nobody
knows (Aurora checks the token itself). The front gives such a role a random internal password
through the bed's superuser and logs in with it; the password never leaves this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import ssl
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql

from upskill_sandbox import rds_topology as topology
from upskill_sandbox.dataplane_types import LISTEN_HOST, Backends, TlsFiles
from upskill_sandbox.pg_session import Policy, serve

__all__ = ["Fronts"]

log = logging.getLogger(__name__)
POLL_SECONDS = 0.25


class Fronts:
    """``with Fronts(backends, tls, map_file, signing_keys):`` runs the listeners in a thread of their own."""

    def __init__(self, backends: Backends, tls: TlsFiles, map_file: Path, signing_keys: Mapping[str, str]) -> None:
        self.backends = backends
        self.map_file = Path(map_file)
        self.keys = dict(signing_keys)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(str(tls.cert), str(tls.key))
        self.servers: dict[str, tuple[asyncio.Server, int, topology.Endpoint]] = {}
        self.counts: dict[str, int] = {}
        self._internal: dict[tuple[str, str], str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._written: dict[str, str] | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> Fronts:
        self._thread = threading.Thread(target=self._run, name="rds-fronts", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self._ready.set()
        try:
            while not self._stop.is_set():
                try:
                    await self.sync()
                except Exception:  # the bed keeps going; the next poll retries
                    log.exception("keeping the emulated RDS endpoints failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), POLL_SECONDS)
        finally:
            for server, _, _ in self.servers.values():
                server.close()
                close_clients = getattr(server, "close_clients", None)  # Python 3.13+; else the tasks below
                if close_clients is not None:
                    close_clients()
            self.servers.clear()
            sessions = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in sessions:
                task.cancel()
            await asyncio.gather(*sessions, return_exceptions=True)
            self.map_file.unlink(missing_ok=True)

    # --- endpoints -------------------------------------------------------------------------------

    async def sync(self) -> None:
        """One poll: listeners for new endpoints, none for gone ones, the map file rewritten on change."""
        wanted = {e.host: e for e in topology.endpoints()}
        for host in [h for h in self.servers if h not in wanted]:
            server, _, _ = self.servers.pop(host)
            server.close()
        for host, endpoint in wanted.items():
            if host not in self.servers or self.servers[host][2] != endpoint:
                if host in self.servers:
                    self.servers.pop(host)[0].close()
                self.servers[host] = await self._listen(endpoint)
        self._write_map({host: f"{LISTEN_HOST}:{port}" for host, (_, port, _) in self.servers.items()})

    async def _listen(self, endpoint: topology.Endpoint) -> tuple[asyncio.Server, int, topology.Endpoint]:
        holder: dict[str, Policy] = {}

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(asyncio.CancelledError):  # stop() cancels sessions: end them quietly
                await serve(reader, writer, holder["policy"])

        server = await asyncio.start_server(handle, LISTEN_HOST, 0)
        port = int(server.sockets[0].getsockname()[1])
        holder["policy"] = self._policy(endpoint, port)
        return server, port, endpoint

    def _policy(self, endpoint: topology.Endpoint, port: int) -> Policy:
        reader = endpoint.role == "reader"
        backend = self.backends.standby if reader and self.backends.standby else self.backends.primary

        async def iam_login(user: str, dbname: str) -> str | None:
            if endpoint.kind != "cluster" or not topology.iam_enabled(endpoint):
                return None
            return await asyncio.to_thread(self._internal_password, user, dbname)

        def database_of(name: str) -> str:
            cluster = topology.cluster_of(endpoint)
            if cluster is None or name != cluster.database_name:
                return name
            return str(cluster.__dict__.get("_upskill_database") or name)

        return Policy(
            endpoint=endpoint,
            listen=f"{LISTEN_HOST}:{port}",
            backend=backend,
            read_only_options=reader and self.backends.standby is None,
            tls=self.context,
            keys=self.keys,
            require_tls=lambda: topology.proxy_requires_tls(endpoint),
            proxy_entries=lambda: topology.auth_entries(endpoint),
            iam_login=iam_login,
            database_of=database_of,
            counts=self.counts,
        )

    def _internal_password(self, user: str, dbname: str) -> str | None:
        """A role in rds_iam (inheriting it: the master holds it with ADMIN only) gets (once) a random password only
        the front knows; others: None."""
        with psycopg.connect(self.backends.admin_conninfo(), autocommit=True) as conn:
            row = conn.execute(
                "SELECT pg_has_role(r.oid, 'rds_iam', 'USAGE') FROM pg_roles r WHERE r.rolname = %s", (user,)
            ).fetchone()
            if not row or not row[0] or user == self.backends.admin_user:
                return None
            key = (user, "")
            if key not in self._internal:
                password = secrets.token_urlsafe(24)
                conn.execute(
                    sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(sql.Identifier(user), sql.Literal(password))
                )
                self._internal[key] = password
            return self._internal[key]

    def _write_map(self, entries: dict[str, str]) -> None:
        if entries == self._written:
            return
        temp = self.map_file.with_name(f".{self.map_file.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(entries, indent=1, sort_keys=True))
        os.replace(temp, self.map_file)
        self._written = dict(entries)

    def address(self, host: str) -> tuple[str, int] | None:
        """Where the listener of an AWS host is (tests)."""
        found: Any = self.servers.get(host.lower())
        return (LISTEN_HOST, int(found[1])) if found else None
