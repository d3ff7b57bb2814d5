"""Group roles against real PostgreSQL (SCRAM for ``app_*`` roles): what the migrations' groups
allow, and how the operator grants and revokes memberships (memberOf)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pydantic import SecretStr

from upskill_operator.adapters.secret.login import Logins
from upskill_operator.adapters.secret.values import AppUser
from upskill_operator.aws.secretsmanager import PasswordPolicy
from upskill_operator.db.grants import IAM_GROUP, GroupError
from upskill_operator.db.migration_files import builtin_set
from upskill_operator.db.migrations import apply
from upskill_operator.db.roles import ensure_login_role, role_state
from upskill_operator.errors import RecoverableError, TerminalError

PASSWORD = SecretStr("grant-Secret-1")
DENIED = "42501"


Target = tuple[dict[str, Any], str, str, SecretStr]
"""(server keywords, dbname, master user, master password)."""


@pytest.fixture
def databases(pg_server: str) -> Iterator[Callable[[str], Target]]:
    """Make a fresh database with one built-in set applied (as the operator does: one set per database)."""
    made: list[str] = []

    def make(set_name: str) -> Target:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        made.append(name)
        url = make_conninfo(pg_server, dbname=name)
        apply(url, builtin_set(set_name))
        params = conninfo_to_dict(url)
        dbname = str(params.pop("dbname"))
        return params, dbname, str(params.pop("user")), SecretStr(str(params.pop("password", "") or ""))

    yield make
    with psycopg.connect(pg_server, autocommit=True) as admin:
        for name in made:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def auth_db(databases: Callable[[str], Target]) -> Target:
    return databases("betterauth")


@pytest.fixture
def course_db(databases: Callable[[str], Target]) -> Target:
    return databases("course")


def master_url(target: Target) -> str:
    server, dbname, master, master_password = target
    return make_conninfo("", **server, dbname=dbname, user=master, password=master_password.get_secret_value())


@pytest.fixture
def roles(pg_server: str) -> Iterator[list[str]]:
    """Names to use for roles (app_* log in with SCRAM); each is dropped afterwards."""
    names = [f"app_{uuid.uuid4().hex[:10]}" for _ in range(3)]
    yield names
    with psycopg.connect(pg_server, autocommit=True) as admin:
        for name in names:
            if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
                admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
                admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def as_role(target: Target, role: str) -> psycopg.Connection[Any]:
    server, dbname, _, _ = target
    return psycopg.connect(**server, dbname=dbname, user=role, password=PASSWORD.get_secret_value(), autocommit=True)


def refused(conn: psycopg.Connection[Any], statement: str) -> str | None:
    try:
        conn.execute(statement)
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


def test_betterauth_app_reads_and_writes_betterauth_rows_and_nothing_else(auth_db: Target, roles: list[str]) -> None:
    server, dbname, master, master_password = auth_db
    ensure_login_role(server, master, master_password, dbname, roles[0], PASSWORD, ["betterauth_app"])
    with as_role(auth_db, roles[0]) as app:
        app.execute("""INSERT INTO "user" (id, name, email, "emailVerified") VALUES ('u1', 'A', 'a@x', false)""")
        app.execute(
            """INSERT INTO "session" (id, "expiresAt", token, "updatedAt", "userId")"""
            """
                       VALUES ('s1', now(), 't1', now(), 'u1')"""
        )
        app.execute("""UPDATE "user" SET name = 'B' WHERE id = 'u1'""")
        assert app.execute("""SELECT count(*) FROM "session" WHERE "userId" = 'u1'""").fetchone() == (1,)
        app.execute("""DELETE FROM "user" WHERE id = 'u1'""")
        assert refused(app, "SELECT * FROM schema_migrations") == DENIED
        assert refused(app, 'TRUNCATE "verification"') == DENIED
        assert refused(app, "CREATE TABLE public.mine (x int)") == DENIED


def test_course_groups_write_or_only_read_the_course_tables(course_db: Target, roles: list[str]) -> None:
    server, dbname, master, master_password = course_db
    writer, reader = roles[0], roles[1]
    ensure_login_role(server, master, master_password, dbname, writer, PASSWORD, ["course_readwrite"])
    ensure_login_role(server, master, master_password, dbname, reader, PASSWORD, ["course_readonly"])
    with as_role(course_db, writer) as app:
        app.execute("INSERT INTO courses (slug, title) VALUES ('intro', 'Intro')")
        app.execute("UPDATE courses SET title = 'Intro 2' WHERE slug = 'intro'")
        assert refused(app, "SELECT * FROM schema_migrations") == DENIED
        assert refused(app, "DROP TABLE progress") == DENIED
    with as_role(course_db, reader) as app:
        assert app.execute("SELECT title FROM courses").fetchall() == [("Intro 2",)]
        assert refused(app, "INSERT INTO courses (slug, title) VALUES ('two', 'Two')") == DENIED
        assert refused(app, "DELETE FROM courses") == DENIED


def test_tables_of_later_migrations_get_the_groups_privileges(course_db: Target, roles: list[str]) -> None:
    server, dbname, master, master_password = course_db
    with psycopg.connect(master_url(course_db), autocommit=True) as admin:
        admin.execute("CREATE TABLE badges (id int)")
    ensure_login_role(server, master, master_password, dbname, roles[0], PASSWORD, ["course_readonly"])
    with as_role(course_db, roles[0]) as app:
        assert app.execute("SELECT count(*) FROM badges").fetchone() == (0,)
        assert refused(app, "INSERT INTO badges VALUES (1)") == DENIED


def test_memberships_follow_the_list_and_others_grants_are_kept(course_db: Target, roles: list[str]) -> None:
    server, dbname, master, master_password = course_db
    role, grantor = roles[0], roles[1]
    ensure_login_role(server, master, master_password, dbname, role, PASSWORD, ["course_readwrite", "course_readonly"])
    assert role_state(server, master, master_password, dbname, role).groups == {"course_readwrite", "course_readonly"}
    with psycopg.connect(master_url(course_db), autocommit=True) as admin:  # someone else's grant
        admin.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(grantor)))
        admin.execute(sql.SQL("GRANT course_readwrite TO {} WITH ADMIN OPTION").format(sql.Identifier(grantor)))
        admin.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(grantor)))
        admin.execute(sql.SQL("GRANT course_readwrite TO {}").format(sql.Identifier(role)))

    ensure_login_role(server, master, master_password, dbname, role, PASSWORD, ["course_readonly"])
    state = role_state(server, master, master_password, dbname, role)
    assert (state.can_login, state.groups) == (True, {"course_readonly"})
    with as_role(course_db, role) as app:  # still a writer, through the other grant
        app.execute("INSERT INTO courses (slug, title) VALUES ('x', 'X')")

    with psycopg.connect(master_url(course_db), autocommit=True) as admin:
        admin.execute(
            sql.SQL("REVOKE course_readwrite FROM {} GRANTED BY {}").format(
                sql.Identifier(role), sql.Identifier(grantor)
            )
        )
    ensure_login_role(server, master, master_password, dbname, role, PASSWORD, [])
    assert role_state(server, master, master_password, dbname, role).groups == frozenset()
    with as_role(course_db, role) as app:
        assert refused(app, "SELECT * FROM courses") == DENIED


def test_missing_or_login_groups_are_refused_before_any_change(course_db: Target, roles: list[str]) -> None:
    server, dbname, master, master_password = course_db
    role, login_role = roles[0], roles[1]
    ensure_login_role(server, master, master_password, dbname, role, PASSWORD, ["course_readonly"])
    with pytest.raises(GroupError) as missing:
        ensure_login_role(server, master, master_password, dbname, role, PASSWORD, ["no_such_group"])
    assert (missing.value.missing, missing.value.not_groups) == (("no_such_group",), ())
    ensure_login_role(server, master, master_password, dbname, login_role, PASSWORD)
    with pytest.raises(GroupError) as login:
        ensure_login_role(server, master, master_password, dbname, role, PASSWORD, [login_role])
    assert login.value.not_groups == (login_role,)
    assert role_state(server, master, master_password, dbname, role).groups == {"course_readonly"}


def test_a_missing_role_is_reported_without_logging_in_as_it(course_db: Target) -> None:
    server, dbname, master, master_password = course_db
    state = role_state(server, master, master_password, dbname, "app_never_made")
    assert (state.can_login, state.groups) == (False, frozenset())


def app_user(target: Target, role: str, groups: tuple[str, ...], *, token_login: bool) -> AppUser:
    server, dbname, master, master_password = target
    return AppUser(
        role=role,
        dbname=dbname,
        build=lambda password: password,
        admin={k: str(v) for k, v in server.items()},
        master_user=master,
        master_password=master_password,
        policy=PasswordPolicy(length=32),
        groups=groups,
        token_login=token_login,
    )


def test_a_token_login_user_is_checked_as_the_master_never_with_a_password(course_db: Target, roles: list[str]) -> None:
    with psycopg.connect(master_url(course_db), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'").fetchone():
            admin.execute("CREATE ROLE rds_iam NOLOGIN")  # as Aurora has
    logins = Logins()
    iam = app_user(course_db, roles[0], ("course_readwrite", IAM_GROUP), token_login=True)
    assert not logins.works(iam, PASSWORD)  # no role yet
    logins.set_password(iam, PASSWORD)
    assert logins.works(iam, SecretStr("not-the-password"))  # role + LOGIN, seen by the master
    assert logins.groups_ok(iam)
    assert not logins.groups_ok(app_user(course_db, roles[0], ("course_readwrite",), token_login=True))
    assert not logins.works(app_user(course_db, roles[0], (), token_login=False), SecretStr("not-the-password"))


def test_a_missing_group_waits_and_a_login_group_is_refused(course_db: Target, roles: list[str]) -> None:
    logins = Logins()
    with pytest.raises(RecoverableError, match="no_such_group"):
        logins.set_password(app_user(course_db, roles[0], ("no_such_group",), token_login=False), PASSWORD)
    logins.set_password(app_user(course_db, roles[1], (), token_login=False), PASSWORD)
    with pytest.raises(TerminalError, match=roles[1]):
        logins.set_password(app_user(course_db, roles[0], (roles[1],), token_login=False), PASSWORD)
