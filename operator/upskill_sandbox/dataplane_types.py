"""The emulated database data plane's parts, as the sandbox and the tests wire them.

Apps and the operator never reach the bed's PostgreSQL servers directly. Each emulated RDS
endpoint (a cluster's writer and reader endpoints, each instance, each RDS Proxy and proxy
endpoint) gets its own TLS listener on 127.0.0.1 (:mod:`.pg_front`), and
``Settings.endpoint_map_file`` maps the endpoint's AWS host name to that listener. Behind the
listeners are real servers on unix sockets only, every login checked with SCRAM:

- the **primary** (the writer of every emulated cluster: one database per cluster), and
- a **standby** streaming from it (hot standby), behind the reader and read-only endpoints.

TLS is served by the listeners with a certificate from a CA the sandbox generates at start
(:class:`TlsFiles`), valid for ``localhost``, ``127.0.0.1`` and ``::1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LISTEN_HOST", "Backend", "Backends", "TlsFiles"]

LISTEN_HOST = "127.0.0.1"
"""Every emulated endpoint listens here (the certificate names it); apps connect to it unedited."""


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the sandbox CA, and the serving certificate (chain) and key it issued."""

    ca: Path
    cert: Path
    key: Path


@dataclass(frozen=True)
class Backend:
    """A PostgreSQL server: libpq ``host`` (a unix socket folder, or a host for ``DATABASE_URL``) and ``port``."""

    host: str
    port: int

    def conninfo(self, user: str, password: str, dbname: str = "postgres") -> str:
        """libpq keywords for a SCRAM login."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(host=self.host, port=self.port, user=user, password=password, dbname=dbname)


@dataclass(frozen=True)
class Backends:
    """The servers behind the emulated endpoints, and the bed's own superuser on them."""

    primary: Backend
    standby: Backend | None
    """None only when ``DATABASE_URL`` names an outside server (no standby can be made from it)."""
    admin_user: str
    admin_password: str = field(repr=False)

    def admin_conninfo(self, dbname: str = "postgres", *, standby: bool = False) -> str:
        server = self.standby if standby and self.standby is not None else self.primary
        return server.conninfo(self.admin_user, self.admin_password, dbname)
