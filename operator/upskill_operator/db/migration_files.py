"""Migration sets: numbered SQL files, from a folder (the built-in sets) or a mapping (a ConfigMap).

A file is ``NNNN_name.sql``: the digits are its version, the whole stem its name. The checksum
is SHA-256 of the text with line endings normalised, so a checkout that turns LF into CRLF does
not look like an edited migration, while any other change does.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BUILTIN_SETS",
    "Migration",
    "MigrationSet",
    "MigrationSetError",
    "builtin_set",
    "checksum",
    "find_migrations_root",
    "load_directory",
    "load_mapping",
]

BUILTIN_SETS = ("betterauth", "course")
_FILE = re.compile(r"^(?P<version>[0-9]{4,})_(?P<label>[a-z0-9][a-z0-9_]*)\.sql$")
ROOT_ENV = "UPSKILL_MIGRATIONS_DIR"


class MigrationSetError(ValueError):
    """A set cannot be loaded: a badly named file, a repeated version, an unknown set."""


def checksum(sql: str) -> str:
    return hashlib.sha256(sql.replace("\r\n", "\n").encode()).hexdigest()


@dataclass(frozen=True)
class Migration:
    version: str
    """The number, as written (``0003``); ordering is numeric."""
    name: str
    """The file stem (``0003_progress``): what status.migrations.latest shows."""
    sql: str
    source: str
    """Where it came from, for error messages (``migrations/course/0003_progress.sql``)."""

    @property
    def checksum(self) -> str:
        return checksum(self.sql)

    @property
    def number(self) -> int:
        return int(self.version)


@dataclass(frozen=True)
class MigrationSet:
    name: str
    """Recorded with every applied version, so several sets can share one database."""
    migrations: tuple[Migration, ...]

    def __post_init__(self) -> None:
        seen: dict[int, str] = {}
        for migration in self.migrations:
            if migration.number in seen:
                raise MigrationSetError(
                    f"set {self.name!r}: {migration.source} and {seen[migration.number]} "
                    f"share version {migration.version}"
                )
            seen[migration.number] = migration.source
        object.__setattr__(self, "migrations", tuple(sorted(self.migrations, key=lambda m: m.number)))

    @property
    def latest(self) -> Migration | None:
        return self.migrations[-1] if self.migrations else None


def _parse(filename: str, sql: str, source: str) -> Migration:
    match = _FILE.match(filename)
    if not match:
        raise MigrationSetError(f"{source}: migration files are named NNNN_name.sql (lower case, digits, _)")
    return Migration(version=match.group("version"), name=filename[: -len(".sql")], sql=sql, source=source)


def load_mapping(set_name: str, files: Mapping[str, str], origin: str = "") -> MigrationSet:
    """A set from ``{filename: sql}`` (a ConfigMap's data); keys not ending in .sql are ignored."""
    prefix = f"{origin}/" if origin else ""
    migrations = [_parse(key, sql, f"{prefix}{key}") for key, sql in files.items() if key.endswith(".sql")]
    if not migrations:
        raise MigrationSetError(f"set {set_name!r}{' (' + origin + ')' if origin else ''} has no *.sql files")
    return MigrationSet(set_name, tuple(migrations))


def load_directory(path: Path, set_name: str | None = None) -> MigrationSet:
    """A set from the ``*.sql`` files of a folder."""
    if not path.is_dir():
        raise MigrationSetError(f"{path} is not a folder of migrations")
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(path.glob("*.sql"))}
    return load_mapping(set_name or path.name, files, origin=str(path))


def _candidates(explicit: str | os.PathLike[str] | None) -> Iterable[Path]:
    if explicit:
        yield Path(explicit)
        return
    if os.environ.get(ROOT_ENV):
        yield Path(os.environ[ROOT_ENV])
    yield Path.cwd() / "migrations"
    yield Path(__file__).resolve().parents[3] / "migrations"  # the source tree (editable install)
    yield Path("/app/migrations")  # the container image


def find_migrations_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding the built-in sets: the given one, $UPSKILL_MIGRATIONS_DIR, ./migrations, the source tree's."""
    tried = []
    for candidate in _candidates(explicit):
        if all((candidate / name).is_dir() for name in BUILTIN_SETS):
            return candidate
        tried.append(str(candidate))
    raise MigrationSetError(f"no migrations folder with {', '.join(BUILTIN_SETS)} (looked in {', '.join(tried)})")


def builtin_set(name: str, root: str | os.PathLike[str] | None = None) -> MigrationSet:
    """One of the sets shipped with the operator (``betterauth``, ``course``)."""
    if name not in BUILTIN_SETS:
        raise MigrationSetError(f"unknown migration set {name!r} (built in: {', '.join(BUILTIN_SETS)})")
    return load_directory(find_migrations_root(root) / name, name)
