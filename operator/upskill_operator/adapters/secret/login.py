"""Application users: keep the stored password the one the database accepts.

An UpskillSecret that names ``spec.source.database.user`` owns a PostgreSQL login role and its
password. The password lives only in Secrets Manager (the credential record, see
:class:`~.secret_value.AppUser`); the database must always accept the version apps read.

A change of password follows the order of AWS's single-user rotation, so no crash leaves the
stored password unusable for longer than one pass:

1. store the new record as a version labelled ``AWSPENDING`` only (apps still read AWSCURRENT);
2. set that password on the role (``ALTER ROLE``, as the master user, on the writer endpoint);
3. move ``AWSCURRENT`` to the new version (the old one becomes AWSPREVIOUS), then sync.

Each pass checks that AWSCURRENT's password logs in. When it does not (a crash between 2 and 3,
a restored database, a role dropped or re-passworded by hand), the repair is: promote AWSPENDING
if *its* password works (step 3 was all that was missing), else set AWSCURRENT's password on the
role, creating it if needed (the first value, or a database that lost the role). Neither repair
writes a new version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from upskill_operator.adapters.secret.state import ObservedSecret
from upskill_operator.adapters.secret.values import AppUser, Current
from upskill_operator.aws.secretsmanager import SecretsManager
from upskill_operator.db.grants import GroupError
from upskill_operator.db.roles import RoleError, RoleState, ensure_login_role, password_works, role_state
from upskill_operator.errors import NotFoundError, RecoverableError, TerminalError

__all__ = ["AppCredentials", "LoginAction", "LoginFacts", "Logins", "stored_password"]

_NOT_ALLOWED = {"42501": "the master user may not create or alter roles", "42939": "the role name is reserved"}


@dataclass(frozen=True)
class LoginFacts:
    """What the database says about the stored passwords (observed, never planned)."""

    current_works: bool
    pending_id: str | None = None
    """The AWSPENDING version, when it differs from AWSCURRENT and its password logs in."""
    groups_ok: bool = True
    """The role's operator-granted group memberships are exactly the AppUser's groups."""


@dataclass(frozen=True)
class LoginAction:
    """A repair that writes no version: promote a working AWSPENDING, or set AWSCURRENT's password."""

    reason: str
    promote: str | None = None


def stored_password(value: SecretStr) -> SecretStr | None:
    """The ``password`` field of a credential record; None when the value is not one."""
    try:
        document = json.loads(value.get_secret_value())
    except ValueError:
        return None
    password = document.get("password") if isinstance(document, dict) else None
    return SecretStr(password) if isinstance(password, str) and password else None


class Logins:
    """The database side of an application user, through :mod:`upskill_operator.db.roles`."""

    def works(self, user: AppUser, password: SecretStr) -> bool:
        """Does ``password`` log in; for a token login (no password is accepted), does the role exist with LOGIN."""
        if user.token_login:
            return self.state(user).can_login
        try:
            return password_works(user.admin, user.dbname, user.role, password)
        except RoleError as exc:
            raise RecoverableError(
                f"cannot check the login of role {user.role}: {exc}", reason="DatabaseUnreachable"
            ) from None

    def groups_ok(self, user: AppUser) -> bool:
        return self.state(user).groups == frozenset(user.groups)

    def state(self, user: AppUser) -> RoleState:
        """The role as the master user sees it."""
        try:
            return role_state(user.admin, user.master_user, user.master_password, user.dbname, user.role)
        except RoleError as exc:
            raise RecoverableError(
                f"cannot check the login of role {user.role}: {exc}", reason="DatabaseUnreachable"
            ) from None

    def set_password(self, user: AppUser, password: SecretStr) -> None:
        """Create the role (LOGIN, CONNECT on the database) or set its password; keep its group memberships."""
        try:
            ensure_login_role(
                user.admin, user.master_user, user.master_password, user.dbname, user.role, password, user.groups
            )
        except GroupError as exc:
            if exc.not_groups:
                raise TerminalError(f"spec.source.database.memberOf: {exc}", reason="GroupRoleRefused") from None
            raise RecoverableError(f"spec.source.database.memberOf: {exc}", reason="GroupRoleMissing") from None
        except RoleError as exc:
            problem = _NOT_ALLOWED.get(exc.sqlstate or "")
            if problem:
                raise TerminalError(f"spec.source.database.user: {problem} ({exc})", reason="RoleRefused") from None
            raise RecoverableError(f"cannot set the password of role {user.role}: {exc}", reason="RoleFailed") from None


class AppCredentials:
    """The Secrets Manager and database steps of an application user's password, in their safe order."""

    def __init__(self, secrets: SecretsManager, logins: Logins) -> None:
        self.secrets = secrets
        self.logins = logins

    def facts(self, user: AppUser | None, observed: ObservedSecret, current: Current | None) -> LoginFacts | None:
        """Does AWSCURRENT's password log in; if not, does a distinct AWSPENDING's?"""
        password = stored_password(current.value) if user is not None and current is not None else None
        if user is None or password is None:
            return None
        if self.logins.works(user, password):
            return LoginFacts(current_works=True, groups_ok=self.logins.groups_ok(user))
        pending = observed.labelled("AWSPENDING")
        if pending is None or pending == observed.current_id:
            return LoginFacts(current_works=False)
        try:
            staged = stored_password(self.secrets.get_secret_value(observed.arn, version_id=pending).value)
        except NotFoundError:
            staged = None
        works = staged is not None and self.logins.works(user, staged)
        return LoginFacts(current_works=False, pending_id=pending if works else None)

    def set_role_password(self, secret: ObservedSecret, user: AppUser, version: str) -> None:
        """Set the password stored in ``version`` on the role (creating the role if needed)."""
        password = stored_password(self.secrets.get_secret_value(secret.arn, version_id=version).value)
        if password is None:
            raise TerminalError(
                f"version {version} of secret {secret.name} is not a credential record (no password field)",
                reason="ValueNotCredentials",
            )
        self.logins.set_password(user, password)

    def promote(self, secret: ObservedSecret, version: str, *, staged: bool) -> None:
        """Make ``version`` AWSCURRENT; a staged version also loses its AWSPENDING label."""
        if version != secret.current_id:
            self.secrets.update_secret_version_stage(
                secret.arn, stage="AWSCURRENT", move_to=version, remove_from=secret.current_id
            )
        if staged:
            self.secrets.update_secret_version_stage(secret.arn, stage="AWSPENDING", move_to=None, remove_from=version)

    def repair(self, secret: ObservedSecret, user: AppUser, action: LoginAction, current: Any) -> None:
        """Make the stored password work again without writing a version (see the module docstring)."""
        if action.promote is not None:
            self.promote(secret, action.promote, staged=True)
        elif isinstance(current, Current):
            self.set_role_password(secret, user, current.version_id)
