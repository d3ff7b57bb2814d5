"""Application login roles against real PostgreSQL: create, re-password, and test a password.

The test server checks every login with SCRAM (``pg_hba.conf`` has no ``trust`` line), so a
wrong password is PostgreSQL's refusal, not ours.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from pydantic import SecretStr

from upskill_operator.db.roles import RoleError, ensure_login_role, password_works


@pytest.fixture
def target(database: str) -> tuple[dict[str, Any], str, str, SecretStr]:
    """(server keywords, dbname, master user, master password) for a fresh database."""
    params = conninfo_to_dict(database)
    dbname = str(params.pop("dbname"))
    master = str(params.pop("user"))
    master_password = SecretStr(str(params.pop("password", "") or ""))
    return params, dbname, master, master_password


@pytest.fixture
def role(pg_server: str) -> Iterator[str]:
    name = f"app_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(pg_server, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))  # also its database grants
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def test_creates_a_login_role_that_connects_with_its_password(target: Any, role: str) -> None:
    server, dbname, master, master_password = target
    password = SecretStr("first-Secret-1")
    assert ensure_login_role(server, master, master_password, dbname, role, password) is True
    assert password_works(server, dbname, role, password)
    assert not password_works(server, dbname, role, SecretStr("wrong"))


def test_a_missing_role_is_a_password_that_does_not_work(target: Any, role: str) -> None:
    server, dbname, _, _ = target
    assert not password_works(server, dbname, role, SecretStr("anything"))


def test_a_new_password_replaces_the_old_one(target: Any, role: str) -> None:
    server, dbname, master, master_password = target
    old, new = SecretStr("old-Secret-1"), SecretStr("new-Secret-2")
    ensure_login_role(server, master, master_password, dbname, role, old)
    assert ensure_login_role(server, master, master_password, dbname, role, new) is False
    assert password_works(server, dbname, role, new)
    assert not password_works(server, dbname, role, old)


def test_grants_connect_and_nothing_on_schemas(target: Any, role: str, database: str) -> None:
    server, dbname, master, master_password = target
    ensure_login_role(server, master, master_password, dbname, role, SecretStr("p-1"))
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute("REVOKE ALL ON DATABASE " + dbname + " FROM PUBLIC")
        admin.execute("CREATE TABLE private_data (x int)")
        row = admin.execute("SELECT has_database_privilege(%s, %s, 'CONNECT')", (role, dbname)).fetchone()
        assert row == (True,)
        row = admin.execute("SELECT has_table_privilege(%s, 'private_data', 'SELECT')", (role,)).fetchone()
        assert row == (False,)


def test_passwords_with_quotes_are_literals_not_sql(target: Any, role: str) -> None:
    server, dbname, master, master_password = target
    password = SecretStr("a'; DROP ROLE postgres; --\\$$x")
    ensure_login_role(server, master, master_password, dbname, role, password)
    assert password_works(server, dbname, role, password)


def test_errors_never_show_the_password(target: Any) -> None:
    server, dbname, master, _ = target
    secret = "leaky-Secret-9"
    with pytest.raises(RoleError) as raised:  # a role name PostgreSQL refuses
        ensure_login_role(server, master, SecretStr(""), dbname, "pg_app_x", SecretStr(secret))
    assert secret not in str(raised.value)
    assert secret not in repr(raised.value)
    assert raised.value.__suppress_context__
