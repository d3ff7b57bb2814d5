"""Real PostgreSQL for the migration and probe tests: embedded (a unix socket) or ``DATABASE_URL``.

One server per session; each test that asks for ``database`` gets a database of its own, created
from template0 and dropped afterwards, so tests never see each other's schema or history.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from upskill_sandbox.postgres import postgres


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The server's admin connection string (an embedded server lives in the system temp folder,
    which, unlike pytest's private tmp folders, the server's own user can enter)."""
    with postgres() as url:
        yield url


@pytest.fixture
def database(pg_server: str) -> Iterator[str]:
    """A fresh, empty database; its connection string."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        yield make_conninfo(pg_server, dbname=name)
    finally:
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
