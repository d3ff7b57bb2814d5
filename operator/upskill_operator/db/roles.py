"""Application login roles: create or re-password a PostgreSQL role, and test a password.

The operator connects with the master credentials and keeps one LOGIN role per UpskillSecret
that names ``spec.source.database.user``. It grants the least a client needs to reach the
database: ``CONNECT`` on that database, plus membership of the NOLOGIN group roles listed in
``memberOf`` (see :mod:`.grants`). Schema privileges (``USAGE``, ``SELECT``, ``INSERT`` ...) belong
to those groups, granted in migrations next to the tables they cover, where they are reviewed
and versioned with the schema.

SQL is composed with :mod:`psycopg.sql`: the role and database names are quoted as identifiers
and the password goes in as a literal (``ALTER ROLE`` takes no bind parameters), never through
string formatting. Errors are re-raised as :class:`RoleError` with the server's SQLSTATE and a
message that cannot contain the password (psycopg's own messages may quote the statement).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from pydantic import SecretStr

from upskill_operator.db.grants import granted, sync_memberships

__all__ = ["CONNECT_TIMEOUT", "RoleError", "RoleState", "ensure_login_role", "password_works", "role_state"]

CONNECT_TIMEOUT = 10
"""Seconds for each connection attempt."""

_AUTH_FAILED = "28P01"
_INVALID_AUTHORIZATION = "28000"


class RoleError(Exception):
    """A role could not be created or changed; the text names the role and SQLSTATE only."""

    def __init__(self, role: str, sqlstate: str | None) -> None:
        if sqlstate:
            text = f"role {role}: the server refused the request (SQLSTATE {sqlstate})"
        else:
            text = f"role {role}: could not connect to the database (server unreachable, or the database is missing)"
        super().__init__(text)
        self.role = role
        self.sqlstate = sqlstate


def _refused_login(message: str) -> bool:
    """libpq reports a refused login at connection time without a SQLSTATE; its text says so."""
    return "authentication failed" in message or ("role" in message and "does not exist" in message)


def _params(base: Mapping[str, Any], user: str, password: SecretStr, dbname: str) -> dict[str, Any]:
    return {
        **base,
        "user": user,
        "password": password.get_secret_value(),
        "dbname": dbname,
        "connect_timeout": CONNECT_TIMEOUT,
    }


def ensure_login_role(
    server: Mapping[str, Any],
    master_user: str,
    master_password: SecretStr,
    dbname: str,
    role: str,
    password: SecretStr,
    groups: Collection[str] = (),
) -> bool:
    """Create ``role`` (LOGIN) with ``password``, or set ``password`` on it; grant CONNECT on ``dbname``;
    make its operator-granted memberships exactly ``groups`` (:func:`.grants.sync_memberships`).

    ``server`` holds libpq keywords for where to connect (host, port, sslmode ...). Returns True
    when the role was created. Idempotent: running it again with the same password changes nothing
    a client could see. A missing or login-capable group raises :class:`.grants.GroupError`.
    """
    name = sql.Identifier(role)
    secret = sql.Literal(password.get_secret_value())
    try:
        with psycopg.connect(**_params(server, master_user, master_password, dbname), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (role,)).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(name, secret))
            else:
                conn.execute(sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(name, secret))
            row = conn.execute("SELECT current_database()").fetchone()  # the one this session reached
            here = str(row[0]) if row else dbname
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(here), name))
            sync_memberships(conn, role, groups)
    except psycopg.Error as exc:
        raise RoleError(role, exc.sqlstate) from None
    return exists is None


@dataclass(frozen=True)
class RoleState:
    """What the master user sees of an application role."""

    can_login: bool
    """The role exists and has LOGIN."""
    groups: frozenset[str]
    """The groups whose membership the master user granted it."""


def role_state(
    server: Mapping[str, Any], master_user: str, master_password: SecretStr, dbname: str, role: str
) -> RoleState:
    """Observe ``role`` as the master user (no login as the role: an IAM role cannot use a password)."""
    try:
        with psycopg.connect(**_params(server, master_user, master_password, dbname), autocommit=True) as conn:
            row = conn.execute("SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = %s", (role,)).fetchone()
            groups = granted(conn, role) if row is not None else set()
    except psycopg.Error as exc:
        raise RoleError(role, exc.sqlstate) from None
    return RoleState(can_login=bool(row and row[0]), groups=frozenset(groups))


def password_works(server: Mapping[str, Any], dbname: str, role: str, password: SecretStr) -> bool:
    """True when ``role`` can log in to ``dbname`` with ``password``; False when authentication fails.

    Other failures (server unreachable ...) raise :class:`RoleError`: they say nothing about the
    password, so a caller must not act as if it were wrong.
    """
    try:
        with psycopg.connect(**_params(server, role, password, dbname)) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        if exc.sqlstate in (_AUTH_FAILED, _INVALID_AUTHORIZATION) or _refused_login(str(exc)):
            return False
        raise RoleError(role, exc.sqlstate) from None
    except psycopg.Error as exc:
        raise RoleError(role, exc.sqlstate) from None
    return True
