"""The data a DB cluster snapshot holds in the bed: a ``pg_dump`` of the cluster's database at that moment.

Why ``pg_dump`` rather than ``CREATE DATABASE ... TEMPLATE``: a template must have no other session,
and the fronts, the operator's pools and the apps hold sessions on a live cluster's database; a dump
reads one consistent MVCC snapshot beside them, as an Aurora snapshot does not disturb its cluster.
A restore creates the new cluster's physical database (owned by its master role) and ``pg_restore``s
the dump into it: tables, rows, roles' grants and ownership (roles are server-wide, so owners exist).

Point in time (``("time", source, T)``) without a WAL archive: while ``timeline_seconds`` is above 0 the
backer dumps every backed cluster's database that often (:meth:`SnapshotStore.mark`), labelled with the
time just before the dump began, so the copy labelled ``t`` holds every transaction committed before
``t`` (and possibly some committed in the instant the dump took to start). The moto cluster's
``LatestRestorableTime`` is then the newest label, and a restore to ``T`` starts from the newest copy
labelled at or before ``T``: exact at every label, and at any other ``T`` the data at the label before
it (at most ``timeline_seconds`` earlier). With the timeline off (the default: it costs a dump per
cluster per period) a restore to a point in time copies the source's database as it is at the restore.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from upskill_sandbox.pg_server import find_bin_dir

__all__ = ["SnapshotStore", "physical_name"]

log = logging.getLogger(__name__)


def physical_name(database: str, identifier: str, taken: set[str]) -> str:
    """The cluster's own database on the bed server: ``DatabaseName`` when free, else one derived from the cluster."""
    if database not in taken:
        return database
    suffix = hashlib.sha256(identifier.encode()).hexdigest()[:10]
    return f"{database[:52]}_{suffix}"


class SnapshotStore:
    """Dump files per (account, region, snapshot), in a temporary folder of this process."""

    def __init__(self, pg_url: str) -> None:
        self.pg_url = pg_url
        self.folder = Path(tempfile.mkdtemp(prefix="upskill-snapshots-"))
        self._lock = threading.Lock()
        self.timeline: dict[tuple[str, str, str], list[tuple[datetime, Path]]] = {}

    def _file(self, account: str, region: str, snapshot: str) -> Path:
        return self.folder / f"{account}.{region}.{snapshot}.dump"

    def _conninfo(self, database: str) -> str:
        return psycopg.conninfo.make_conninfo(self.pg_url, dbname=database)

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own binaries, argument lists
            [str(find_bin_dir() / tool), *args], capture_output=True, text=True, check=False
        )

    def take(self, account: str, region: str, snapshot: str, database: str) -> None:
        """Dump ``database`` now as the snapshot's data."""
        self.take_file(self._file(account, region, snapshot), database)

    def take_file(self, target: Path, database: str) -> None:
        snapshot = target.name
        with self._lock:
            done = self._run("pg_dump", "--format=custom", f"--file={target}", f"--dbname={self._conninfo(database)}")
        if done.returncode != 0:
            raise RuntimeError(f"pg_dump of {database} for snapshot {snapshot} failed: {done.stderr.strip()[-500:]}")

    def mark(self, account: str, region: str, cluster: str, database: str) -> datetime:
        """One timeline copy of ``database`` now; returns its label (naive UTC, as moto keeps times)."""
        label = datetime.now(UTC).replace(tzinfo=None)
        target = self.folder / f"timeline.{account}.{region}.{cluster}.{label.timestamp():.6f}.dump"
        with self._lock:
            done = self._run("pg_dump", "--format=custom", f"--file={target}", f"--dbname={self._conninfo(database)}")
        if done.returncode != 0:
            raise RuntimeError(f"pg_dump of {database} for the timeline failed: {done.stderr.strip()[-500:]}")
        self.timeline.setdefault((account, region, cluster), []).append((label, target))
        return label

    def copy_at(self, account: str, region: str, cluster: str, when: datetime) -> Path | None:
        """The newest timeline copy of ``cluster`` labelled at or before ``when`` (aware or naive UTC)."""
        naive = when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when
        found = [path for label, path in self.timeline.get((account, region, cluster), []) if label <= naive]
        return found[-1] if found else None

    def has(self, account: str, region: str, snapshot: str) -> bool:
        return self._file(account, region, snapshot).exists()

    def drop(self, account: str, region: str, snapshot: str) -> None:
        self._file(account, region, snapshot).unlink(missing_ok=True)

    def restore_dump(self, source: Path, database: str) -> None:
        done = self._run("pg_restore", "--no-comments", f"--dbname={self._conninfo(database)}", str(source))
        if done.returncode != 0:
            log.warning("pg_restore into %s reported: %s", database, done.stderr.strip()[-500:])

    def restore(
        self, account: str, region: str, restored_from: tuple[str, ...], database: str, live: str | None
    ) -> None:
        """Fill the new (empty) ``database`` from what the restore names; ``live`` is the source's database
        (a point-in-time restore with no timeline copy at or before the time copies it as it is now)."""
        if restored_from[0] == "time":
            copy = self.copy_at(account, region, restored_from[1], datetime.fromisoformat(restored_from[2]))
            if copy is not None:
                self.restore_dump(copy, database)
            elif live is not None:
                now = self.folder / f"live.{database}.dump"
                self.take_file(now, live)
                self.restore_dump(now, database)
                now.unlink(missing_ok=True)
            else:
                log.warning("the source of %s has no database in the bed; it starts empty", database)
            return
        if restored_from[0] == "snapshot":
            dump = self._file(account, region, restored_from[1])
            if not dump.exists():
                log.warning("snapshot %s holds no data in the bed; %s starts empty", restored_from[1], database)
                return
            self.restore_dump(dump, database)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
