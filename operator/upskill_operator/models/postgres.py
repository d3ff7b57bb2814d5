"""PostgreSQL naming rules shared by the database and secret kinds."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from upskill_operator.models.rules import Matches

__all__ = [
    "MASTER_USERNAME_MAX",
    "RESERVED_WORDS",
    "ApplicationRoleName",
    "DatabaseName",
    "GroupRoleName",
    "MasterUserName",
    "RoleName",
]

RESERVED_WORDS = frozenset(
    """all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create
    current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc
    distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral
    leading limit localtime localtimestamp not null offset on only or order placing primary references returning
    select session_user some symmetric system_user table then to trailing true union unique user using variadic
    when where window with""".split()  # noqa: SIM905 (a word list reads better as text)
)
"""PostgreSQL's fully reserved key words: not usable as unquoted identifiers."""

_IDENTIFIER = Matches(
    r"^[a-z][a-z0-9_]{0,62}$", "must be a PostgreSQL identifier: a-z, then up to 62 of a-z 0-9 _", max_length=63
)
_SYSTEM_DATABASES = frozenset({"postgres", "template0", "template1", "rdsadmin"})
_RESERVED_ROLE_PREFIXES = ("pg_", "rds_")
_SYSTEM_ROLES = frozenset({"rdsadmin", "rdsrepladmin", "rdsproxyadmin", "public", "none"})


def _not_reserved(name: str) -> str:
    if name in RESERVED_WORDS:
        raise ValueError(f"{name!r} is a reserved word in PostgreSQL")
    return name


def _database(name: str) -> str:
    if name in _SYSTEM_DATABASES:
        raise ValueError(f"{name!r} is a database Aurora manages itself")
    return name


_ADMIN_ROLES = frozenset({"postgres", "admin", "master", "root", "superuser"})


def _application_role(name: str) -> str:
    if name in _ADMIN_ROLES:
        raise ValueError(f"{name!r} is an administrator's name; an application user needs a name of its own")
    return name


def _role(name: str) -> str:
    if name in _SYSTEM_ROLES or name.startswith(_RESERVED_ROLE_PREFIXES):
        raise ValueError(f"{name!r} is reserved for PostgreSQL or RDS roles")
    return name


DatabaseName = Annotated[str, _IDENTIFIER, AfterValidator(_not_reserved), AfterValidator(_database)]
RoleName = Annotated[str, _IDENTIFIER, AfterValidator(_not_reserved), AfterValidator(_role)]
MASTER_USERNAME_MAX = 16
"""RDS CreateDBCluster: a master user name is 1 to 16 letters or digits (and _), starting with a letter."""


def _master_length(name: str) -> str:
    if len(name) > MASTER_USERNAME_MAX:
        raise ValueError(f"must be at most {MASTER_USERNAME_MAX} characters for an RDS master user (got {len(name)})")
    return name


MasterUserName = Annotated[RoleName, AfterValidator(_master_length)]
ApplicationRoleName = Annotated[RoleName, AfterValidator(_application_role)]
GroupRoleName = Annotated[RoleName, AfterValidator(_application_role)]
"""A NOLOGIN group role an application user may be made a member of (checked in the database too)."""
"""A role the operator creates for an application: a RoleName that is not an administrator's name.
The cluster's actual master username is checked when the source is resolved."""
