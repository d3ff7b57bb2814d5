"""Group memberships of an application role: grant the listed NOLOGIN groups, revoke the rest.

The operator owns the memberships *it* granted: those whose grantor is the master user (the
role it connects as). Memberships granted by anyone else are left alone. Every group must exist
and be a NOLOGIN, non-superuser role (migrations make them, e.g. ``betterauth_app``); the role
names were validated by the model and are quoted with :mod:`psycopg.sql` all the same.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import psycopg
from psycopg import sql

__all__ = ["IAM_GROUP", "GroupError", "granted", "sync_memberships"]

IAM_GROUP = "rds_iam"
"""The group whose members log in to RDS cluster and instance endpoints with an IAM auth token."""

_GRANTED = """
SELECT g.rolname FROM pg_catalog.pg_auth_members m
JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
JOIN pg_catalog.pg_roles r ON r.oid = m.member
WHERE r.rolname = %s AND m.grantor = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
"""


class GroupError(Exception):
    """Listed groups that are missing, or that are not NOLOGIN groups; the text names them only."""

    def __init__(self, role: str, missing: Collection[str], not_groups: Collection[str]) -> None:
        parts = []
        if missing:
            parts.append(f"missing (run the migrations that create them): {', '.join(sorted(missing))}")
        if not_groups:
            parts.append(f"not NOLOGIN group roles: {', '.join(sorted(not_groups))}")
        super().__init__(f"role {role}: group roles {'; '.join(parts)}")
        self.role = role
        self.missing = tuple(sorted(missing))
        self.not_groups = tuple(sorted(not_groups))


def granted(conn: psycopg.Connection[Any], role: str) -> set[str]:
    """The groups of ``role`` whose membership the connected user granted."""
    return {str(row[0]) for row in conn.execute(_GRANTED, (role,)).fetchall()}


def _check_groups(conn: psycopg.Connection[Any], role: str, groups: Collection[str]) -> None:
    if not groups:
        return
    rows = conn.execute(
        "SELECT rolname, rolcanlogin OR rolsuper FROM pg_catalog.pg_roles WHERE rolname = ANY(%s)", (list(groups),)
    ).fetchall()
    found = {str(name): bool(bad) for name, bad in rows}
    missing = [g for g in groups if g not in found]
    not_groups = [g for g, bad in found.items() if bad]
    if missing or not_groups:
        raise GroupError(role, missing, not_groups)


def sync_memberships(conn: psycopg.Connection[Any], role: str, groups: Collection[str]) -> bool:
    """Make the memberships the connected user granted ``role`` exactly ``groups``; True when it changed any.

    Raises :class:`GroupError` (before changing anything) when a group is missing or can log in.
    """
    _check_groups(conn, role, groups)
    have = granted(conn, role)
    wanted = set(groups)
    name = sql.Identifier(role)
    for group in sorted(wanted - have):
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), name))
    for group in sorted(have - wanted):
        conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), name))
    return have != wanted
