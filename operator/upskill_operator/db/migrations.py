"""Apply a migration set to PostgreSQL: in order, one transaction per file, exactly once.

* History: ``schema_migrations`` records the set, version, name, checksum, time and duration of
  every applied file; several sets can share a database.
* Locking: the whole run holds a session-level advisory lock, so a second runner (another pod,
  the CLI during a deploy) waits, then finds nothing left to do.
* Checksums: an applied file that changed, an applied file that vanished, or a new file older
  than the latest applied one is refused before anything runs, naming the file.
* Failure: the failing file's transaction rolls back completely (earlier files stay applied) and
  the error names the file and line, computed from PostgreSQL's error position.

No connection string, password or statement parameter is ever put in an exception message.
"""

from __future__ import annotations

import contextlib
import datetime
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from upskill_operator.db.migration_files import Migration, MigrationSet
from upskill_operator.db.sql_split import Statement, TransactionControlError, line_of, split_statements
from upskill_operator.errors import RecoverableError, TerminalError

__all__ = [
    "HISTORY_TABLE",
    "LOCK_KEY",
    "AppliedMigration",
    "DatabaseUnavailableError",
    "MigrationConflictError",
    "MigrationFailedError",
    "MigrationInterruptedError",
    "MigrationPlan",
    "MigrationReport",
    "Stage",
    "apply",
    "no_stage",
    "plan",
]

HISTORY_TABLE = "schema_migrations"
LOCK_KEY = int.from_bytes(b"upskillm", "big")
"""The advisory lock every runner takes (one key for all sets: history DDL is shared)."""
_TRANSIENT_CLASSES = ("08", "40", "53", "57", "58")
"""SQLSTATE classes worth retrying: connection, rollback (serialization, deadlock), resources, operator."""

_CREATE_HISTORY = sql.SQL(
    """CREATE TABLE IF NOT EXISTS {} (
        migration_set text NOT NULL,
        version text NOT NULL,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        duration_ms double precision NOT NULL,
        PRIMARY KEY (migration_set, version)
    )"""
).format(sql.Identifier(HISTORY_TABLE))


class MigrationConflictError(TerminalError):
    """The database's history and the files disagree; nothing was applied."""


class MigrationFailedError(TerminalError):
    """A file failed and was rolled back: the SQL itself is wrong (or the data does not fit it)."""

    def __init__(self, message: str, *, source: str, line: int | None, sqlstate: str | None) -> None:
        super().__init__(message, reason="MigrationFailed")
        self.source, self.line, self.sqlstate = source, line, sqlstate


class MigrationInterruptedError(RecoverableError):
    """A file was rolled back for a transient reason (deadlock, serialization, cancel, lost connection)."""

    def __init__(self, message: str, *, source: str, line: int | None, sqlstate: str | None) -> None:
        super().__init__(message, reason="MigrationInterrupted")
        self.source, self.line, self.sqlstate = source, line, sqlstate


class DatabaseUnavailableError(RecoverableError):
    """Could not connect, or waited too long for another runner's lock."""


@dataclass(frozen=True)
class AppliedMigration:
    version: str
    name: str
    checksum: str
    duration_seconds: float
    applied_at: datetime.datetime | None = None


@dataclass(frozen=True)
class MigrationPlan:
    set_name: str
    applied: tuple[AppliedMigration, ...]
    """What the database already records for this set, in version order."""
    pending: tuple[Migration, ...]
    """What a run would apply, in order."""


@dataclass(frozen=True)
class MigrationReport:
    set_name: str
    applied_before: int
    applied_now: tuple[AppliedMigration, ...] = field(default_factory=tuple)
    latest: str | None = None
    """Name of the latest applied migration of the set, after the run."""

    @property
    def applied_total(self) -> int:
        return self.applied_before + len(self.applied_now)


Progress = Callable[[AppliedMigration], None]
Stage = Callable[[str], None]
"""Told what a run is doing as it moves on (connecting, the lock, each file): a long run can say where it is."""


def no_stage(_: str) -> None:
    """A :data:`Stage` that listens to nothing."""
    return None


def _connect(conninfo: str, params: Mapping[str, Any], connect_timeout: float) -> psycopg.Connection[Any]:
    options = {"connect_timeout": max(1, round(connect_timeout)), **params}
    try:
        return psycopg.connect(conninfo, autocommit=True, **options)
    except psycopg.Error as exc:
        raise DatabaseUnavailableError(
            f"cannot connect to PostgreSQL: {_first_line(exc)}", reason="DatabaseUnavailable"
        ) from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _history_exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (HISTORY_TABLE,)).fetchone()
    return bool(row and row[0])


def _recorded(conn: psycopg.Connection[Any], set_name: str) -> list[AppliedMigration]:
    if not _history_exists(conn):
        return []
    query = sql.SQL("SELECT version, name, checksum, duration_ms, applied_at FROM {} WHERE migration_set = %s").format(
        sql.Identifier(HISTORY_TABLE)
    )
    rows = conn.execute(query, (set_name,)).fetchall()
    applied = [AppliedMigration(r[0], r[1], r[2], float(r[3]) / 1000, r[4]) for r in rows]
    return sorted(applied, key=lambda a: int(a.version))


def _pending(migration_set: MigrationSet, applied: Sequence[AppliedMigration]) -> tuple[Migration, ...]:
    """The files still to run; refuses edited, vanished or out-of-order files."""
    files = {m.number: m for m in migration_set.migrations}
    for record in applied:
        migration = files.get(int(record.version))
        if migration is None:
            raise MigrationConflictError(
                f"set {migration_set.name!r}: {record.name} is recorded in {HISTORY_TABLE} but its file is missing",
                reason="MigrationMissing",
            )
        if migration.checksum != record.checksum:
            raise MigrationConflictError(
                f"{migration.source} was changed after it was applied (checksum {record.checksum[:12]} in the "
                f"database, {migration.checksum[:12]} now): restore it and put the change in a new file",
                reason="MigrationChecksumMismatch",
            )
    done = {int(r.version) for r in applied}
    latest = max(done, default=-1)
    pending = tuple(m for m in migration_set.migrations if m.number not in done)
    early = [m for m in pending if m.number < latest]
    if early:
        raise MigrationConflictError(
            f"{early[0].source} is older than the latest applied version of set {migration_set.name!r} "
            f"({applied[-1].name}); give it a higher number",
            reason="MigrationOutOfOrder",
        )
    return pending


def _statements(migration: Migration) -> list[Statement]:
    try:
        return split_statements(migration.sql)
    except TransactionControlError as exc:
        raise MigrationFailedError(
            f"{migration.source}:{exc.line}: {exc}",
            source=migration.source,
            line=exc.line,
            sqlstate=None,
        ) from None


def _sql_error(migration: Migration, statement: Statement, exc: psycopg.Error) -> Exception:
    """The error to raise for a failed statement: file:line, SQLSTATE and PostgreSQL's message."""
    diag = exc.diag
    raw = diag.statement_position or ""
    position = int(raw) if raw.isdigit() else None
    offset = statement.offset + position - 1 if position else None
    line = line_of(migration.sql, offset) if offset is not None else statement.line
    message = diag.message_primary or _first_line(exc)
    code = exc.sqlstate or ""
    text = f"{migration.source}:{line}: {code + ' ' if code else ''}{message}"
    if diag.message_detail:
        text += f" ({diag.message_detail})"
    transient = isinstance(exc, psycopg.OperationalError) or code.startswith(_TRANSIENT_CLASSES)
    kind = MigrationInterruptedError if transient else MigrationFailedError
    return kind(text, source=migration.source, line=line, sqlstate=code or None)


def _apply_one(conn: psycopg.Connection[Any], set_name: str, migration: Migration) -> AppliedMigration:
    statements = _statements(migration)
    started = time.perf_counter()
    insert = sql.SQL(
        "INSERT INTO {} (migration_set, version, name, checksum, duration_ms) VALUES (%s, %s, %s, %s, %s)"
    ).format(sql.Identifier(HISTORY_TABLE))
    statement = statements[0] if statements else Statement("", 0, 1)
    try:
        with conn.transaction():
            for statement in statements:
                conn.execute(statement.text.encode())  # bytes: sent verbatim, never parsed for %s placeholders
            elapsed_ms = (time.perf_counter() - started) * 1000
            conn.execute(insert, (set_name, migration.version, migration.name, migration.checksum, elapsed_ms))
    except psycopg.Error as exc:
        raise _sql_error(migration, statement, exc) from None
    return AppliedMigration(
        migration.version,
        migration.name,
        migration.checksum,
        time.perf_counter() - started,
        datetime.datetime.now(datetime.UTC),
    )


@contextlib.contextmanager
def _bookkeeping() -> Iterator[None]:
    """Failures reading or creating the history table: transient as far as the caller can tell."""
    try:
        yield
    except psycopg.Error as exc:
        raise DatabaseUnavailableError(
            f"reading {HISTORY_TABLE} failed: {_first_line(exc)}", reason="MigrationHistoryUnavailable"
        ) from None


def _lock(conn: psycopg.Connection[Any], wait_seconds: float) -> None:
    try:
        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{max(1, round(wait_seconds * 1000))}ms")))
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        conn.execute("RESET lock_timeout")
    except psycopg.errors.LockNotAvailable:
        raise DatabaseUnavailableError(
            f"another migration runner held the lock for more than {wait_seconds:.0f}s", reason="MigrationLockTimeout"
        ) from None


def plan(conninfo: str, migration_set: MigrationSet, *, connect_timeout: float = 10.0, **params: Any) -> MigrationPlan:
    """What :func:`apply` would do (a dry run): reads the history, writes nothing, takes no lock."""
    with _connect(conninfo, params, connect_timeout) as conn, _bookkeeping():
        applied = _recorded(conn, migration_set.name)
        return MigrationPlan(migration_set.name, tuple(applied), _pending(migration_set, applied))


def apply(
    conninfo: str,
    migration_set: MigrationSet,
    *,
    progress: Progress | None = None,
    stage: Stage = no_stage,
    lock_wait_seconds: float = 300.0,
    connect_timeout: float = 10.0,
    **params: Any,
) -> MigrationReport:
    """Apply every pending file of ``migration_set``; ``params`` go to :func:`psycopg.connect` (e.g. password)."""
    stage("connecting")
    with _connect(conninfo, params, connect_timeout) as conn:
        stage("taking the migration lock (another runner may hold it)")
        _lock(conn, lock_wait_seconds)
        try:
            stage(f"reading {HISTORY_TABLE}")
            with _bookkeeping():
                conn.execute(_CREATE_HISTORY)
                applied = _recorded(conn, migration_set.name)
            pending = _pending(migration_set, applied)
            done: list[AppliedMigration] = []
            for number, migration in enumerate(pending, 1):
                stage(f"applying {migration.name} ({number} of {len(pending)} pending)")
                record = _apply_one(conn, migration_set.name, migration)
                done.append(record)
                if progress is not None:
                    progress(record)
            names = [a.name for a in applied] + [d.name for d in done]
            return MigrationReport(migration_set.name, len(applied), tuple(done), names[-1] if names else None)
        finally:
            if not conn.closed and not conn.broken:
                conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
