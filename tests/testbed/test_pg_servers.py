"""The bed's PostgreSQL servers: SCRAM on every login, a standby that streams and refuses writes."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from upskill_sandbox.dataplane_types import Backends
from upskill_sandbox.pg_server import bed_servers

pytestmark = pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the bed starts its own servers")


@pytest.fixture(scope="module")
def backends() -> Iterator[Backends]:
    with bed_servers() as (found, _):
        yield found


def _wait_for_row(conninfo: str, table: str, value: str, timeout: float = 30.0) -> tuple[str]:
    deadline = time.monotonic() + timeout
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while True:
            try:
                query = sql.SQL("SELECT v FROM {} WHERE v = %s").format(sql.Identifier(table))
                found = conn.execute(query, (value,)).fetchone()
            except psycopg.errors.UndefinedTable:  # the standby has not replayed the CREATE yet
                found = None
            if found is not None:
                return (str(found[0]),)
            assert time.monotonic() < deadline, "the row never reached the standby"
            time.sleep(0.05)


def test_a_wrong_password_is_refused_and_the_right_one_works(backends: Backends) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(backends.primary.conninfo(backends.admin_user, "not-the-password"), connect_timeout=5)
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):  # the server asked for one
        psycopg.connect(backends.primary.conninfo(backends.admin_user, ""), connect_timeout=5)
    with psycopg.connect(backends.admin_conninfo()) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (backends.admin_user,)


def test_every_hba_line_is_scram_and_passwords_are_stored_as_scram(backends: Backends) -> None:
    with psycopg.connect(backends.admin_conninfo()) as conn:
        methods = {r[0] for r in conn.execute("SELECT auth_method FROM pg_hba_file_rules").fetchall()}
        assert methods == {"scram-sha-256"}
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
        conn.execute("SET password_encryption = 'md5'")  # a session may not weaken what the server stores below
        stored = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = current_user").fetchone()
    assert stored is not None
    assert str(stored[0]).startswith("SCRAM-SHA-256$")


def test_the_aurora_roles_exist(backends: Backends) -> None:
    with psycopg.connect(backends.admin_conninfo()) as conn:
        rows = conn.execute(
            "SELECT rolname, rolcanlogin, rolreplication FROM pg_roles WHERE rolname IN ('rds_iam', 'replicator')"
        ).fetchall()
    assert sorted(rows) == [("rds_iam", False, False), ("replicator", True, True)]


def test_the_standby_streams_refuses_writes_and_shows_the_primarys_rows(backends: Backends) -> None:
    assert backends.standby is not None
    table, value = f"t_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with psycopg.connect(backends.admin_conninfo(), autocommit=True) as primary:
        states = primary.execute("SELECT state FROM pg_stat_replication").fetchall()
        assert ("streaming",) in states
        primary.execute(sql.SQL("CREATE TABLE {} (v text)").format(sql.Identifier(table)))
        primary.execute(sql.SQL("INSERT INTO {} VALUES (%s)").format(sql.Identifier(table)), (value,))
    assert _wait_for_row(backends.admin_conninfo(standby=True), table, value) == (value,)
    with psycopg.connect(backends.admin_conninfo(standby=True), autocommit=True) as standby:
        assert standby.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as refused:
            standby.execute(sql.SQL("INSERT INTO {} VALUES ('x')").format(sql.Identifier(table)))
    assert refused.value.sqlstate == "25006"


def test_stop_ends_the_servers_and_deletes_their_folders() -> None:
    with bed_servers() as (found, servers):
        assert servers is not None
        base = servers.base
        assert base.exists()
    assert not base.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(found.admin_conninfo(), connect_timeout=2)
