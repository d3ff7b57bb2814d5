"""The ``database`` source: a PostgreSQL URL (or JSON) from an UpskillDatabase's status and credentials.

The UpskillDatabase is read from the Kubernetes API (its ``status`` per
:mod:`upskill_operator.models.database_status`): endpoints, port and cluster identifier. Status can
be forged by whoever may patch it, so the cluster is then read from RDS: it must carry the owner tag
of that UpskillDatabase, and the master user secret (JSON ``{username, password}``) is the one RDS
reports for it, never an ARN from status. A cluster that is not the database's own is refused
before any secret value is read.
Anything missing is a wait (:class:`Waiting`), never an error: the database may still be
creating, or not applied yet.

Host names pass through an :data:`EndpointResolver` before they go into the URL. Against AWS it
is the identity (:func:`aws_endpoint`); the sandbox plugs in one that maps the emulated
clusters' host names to the embedded PostgreSQL behind them (see ``wiring/secret.py``).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr, ValidationError

from upskill_operator.adapters.database.master_secret import own_master_secret
from upskill_operator.adapters.database.proxy_users import mapping
from upskill_operator.adapters.secret.values import AppUser, DatabaseOrigin, Resolved
from upskill_operator.aws.rds_passwords import RdsPasswords
from upskill_operator.aws.secretsmanager import PasswordPolicy, SecretsManager
from upskill_operator.db.grants import IAM_GROUP
from upskill_operator.errors import NotFoundError, TerminalError
from upskill_operator.kube.custom_objects import CustomObjects
from upskill_operator.models import database
from upskill_operator.models import secret as secret_kind
from upskill_operator.models.common import API_GROUP, API_VERSION
from upskill_operator.models.database_status import DatabaseStatus
from upskill_operator.models.secret import IAM_HIDDEN_FIELDS, DatabaseSource

__all__ = [
    "APP_PASSWORD_POLICY",
    "Address",
    "DatabaseReader",
    "EndpointResolver",
    "Waiting",
    "app_tls",
    "aws_endpoint",
    "check_auth",
    "connection_document",
    "operator_tls",
    "postgres_url",
]

_ENDPOINT_FIELDS = {"proxy": "proxy", "proxyReadOnly": "proxy_read_only", "writer": "writer", "reader": "reader"}
DEFAULT_PORT = 5432
APP_PASSWORD_POLICY = PasswordPolicy(length=40, exclude_punctuation=True)
"""Application users' passwords: 40 letters and digits (about 238 bits), safe in any URL or config."""


class Waiting(Exception):  # noqa: N818 - a state, not an error
    """The source is not available yet; the message says what is awaited."""


@dataclass(frozen=True)
class Address:
    """Where a client connects: host (or a unix socket directory), port and extra URL parameters."""

    host: str
    port: int
    params: Mapping[str, str] = field(default_factory=lambda: {"sslmode": "require"})


EndpointResolver = Callable[[str, int], Address]
"""(endpoint host from the UpskillDatabase's status, port) -> where clients actually connect."""


def aws_endpoint(host: str, port: int) -> Address:
    """Against AWS, clients connect to the endpoint itself, with TLS required."""
    return Address(host, port)


def app_tls(ca_path: str | None) -> dict[str, str]:
    """TLS parameters of delivered values: verify the server with the CA mounted at ``ca_path``, else require TLS."""
    return {"sslmode": "verify-full", "sslrootcert": ca_path} if ca_path else {"sslmode": "require"}


def operator_tls(ca_bundle: str | None) -> dict[str, str]:
    """TLS parameters of the operator's own connections: verify-full with ``Settings.db_ca_bundle`` when set."""
    return {"sslmode": "verify-full", "sslrootcert": ca_bundle} if ca_bundle else {"sslmode": "require"}


def postgres_url(username: str, password: SecretStr | None, address: Address, dbname: str) -> SecretStr:
    """``postgresql://user:pass@host:port/db?sslmode=...``, every part percent-encoded; no password for IAM."""
    user = urllib.parse.quote(username, safe="")
    secret = "" if password is None else ":" + urllib.parse.quote(password.get_secret_value(), safe="")
    params = dict(address.params)
    if address.host.startswith("/"):  # a unix socket directory goes in the query, as libpq expects
        netloc = f"{user}{secret}@"
        params = {"host": address.host, "port": str(address.port), **params}
    else:
        host = f"[{address.host}]" if ":" in address.host else address.host
        netloc = f"{user}{secret}@{host}:{address.port}"
    query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    path = urllib.parse.quote(dbname, safe="")
    return SecretStr(f"postgresql://{netloc}/{path}" + (f"?{query}" if query else ""))


def connection_document(
    username: str,
    password: SecretStr,
    address: Address,
    dbname: str,
    *,
    auth: str = "Password",
    region: str = "us-east-1",
    hide: tuple[str, ...] = (),
) -> SecretStr:
    """The JSON form: every connection field and the URL (passwordless for IAM), less the ``hide`` fields."""
    iam = auth == "IAM"
    url = postgres_url(username, None if iam else password, address, dbname)
    document: dict[str, Any] = {
        "engine": "postgres",
        "host": address.host,
        "port": address.port,
        "dbname": dbname,
        "username": username,
        "password": password.get_secret_value(),
        "region": region,
        "sslmode": address.params.get("sslmode", ""),
        "sslrootcert": address.params.get("sslrootcert"),
        "auth": auth,
        "url": url.get_secret_value(),
    }
    document = {k: v for k, v in document.items() if k not in hide and v is not None}
    return SecretStr(json.dumps(document, sort_keys=True))


def _credentials(raw: SecretStr, what: str) -> tuple[str, SecretStr]:
    try:
        document = json.loads(raw.get_secret_value())
    except ValueError:
        document = None
    if not isinstance(document, dict) or not document.get("username") or not document.get("password"):
        raise Waiting(f"{what} is not a JSON object with username and password")
    return str(document["username"]), SecretStr(str(document["password"]))


class DatabaseReader:
    """Resolves a ``database`` source into a value; raises :class:`Waiting` until it can."""

    def __init__(
        self,
        objects: CustomObjects,
        secrets: SecretsManager,
        rds: RdsPasswords,
        resolver: EndpointResolver,
        *,
        region: str = "us-east-1",
        admin_tls: Mapping[str, str] | None = None,
    ) -> None:
        self._objects = objects
        self._secrets = secrets
        self._rds = rds
        self._resolver = resolver
        self._region = region
        self._admin_tls = dict(admin_tls) if admin_tls is not None else operator_tls(None)

    def resolve(self, namespace: str, source: DatabaseSource, name: str = "") -> Resolved:
        """``name``: the UpskillSecret asking (the oldest of several naming one user keeps it)."""
        what = f"UpskillDatabase {source.ref}"
        found = self._objects.get(API_GROUP, API_VERSION, namespace, database.KIND.plural, source.ref)
        if found is None:
            raise Waiting(f"waiting for {what}: it does not exist in namespace {namespace}")
        status, dbname = self._parse(found, what)
        login = check_auth(source, found.get("spec") or {}, what)
        self._same_auth(namespace, name, source, login, found.get("spec") or {}, what)
        if not _ready(found):
            raise Waiting(f"waiting for {what} to be Ready")
        if source.member_of and (found.get("spec") or {}).get("migrations") and not _migrated(found):
            raise Waiting(f"waiting for the migrations of {what} (they create the memberOf group roles)")
        host = getattr(status.endpoints, _ENDPOINT_FIELDS[source.endpoint], None) if status.endpoints else None
        if not host:
            raise Waiting(f"waiting for {what} to report its {source.endpoint} endpoint")
        cluster, secret_arn = self._own_cluster(namespace, source.ref, status, what)
        try:
            master = self._secrets.get_secret_value(secret_arn)
        except NotFoundError:
            raise Waiting(f"waiting for the master user secret of {what}") from None
        username, password = _credentials(master.value, f"the master user secret of {what}")
        address = self._resolver(host, status.port or DEFAULT_PORT)
        origin = DatabaseOrigin(
            database=source.ref,
            cluster_identifier=cluster,
            master_secret_arn=secret_arn,
            credentials_created=master.created,
            credentials_version=master.version_id,
        )
        if source.user is not None:
            return self._app_user(source, login, status, what, dbname, address, (username, password), origin)
        if source.format == "json":
            hide = IAM_HIDDEN_FIELDS if login == "IAM" else ()
            content = connection_document(
                username, password, address, dbname, auth=login, region=self._region, hide=hide
            )
        else:
            content = postgres_url(username, None if login == "IAM" else password, address, dbname)
        return Resolved(origin=f"{what} ({source.endpoint})", content=content, database=origin)

    def _same_auth(
        self, namespace: str, me: str, source: DatabaseSource, login: str, spec: Mapping[str, Any], what: str
    ) -> None:
        """One UpskillSecret per user of a database: each keeps its own password (and RDS Proxy takes one secret
        per user), so a second one would undo the first's on every pass. The oldest keeps the user."""
        if source.user is None:
            return
        proxy_iam = _proxy_iam(spec)
        others = self._objects.list(API_GROUP, API_VERSION, namespace, secret_kind.KIND.plural)
        created = {
            str(mapping(o, "metadata").get("name")): mapping(o, "metadata").get("creationTimestamp") for o in others
        }
        mine = (str(created.get(me) or "~"), me)  # not listed yet: it is the newest
        for other in others:
            meta = mapping(other, "metadata")
            theirs = mapping(mapping(mapping(other, "spec"), "source"), "database")
            if theirs.get("ref") != source.ref or theirs.get("user") != source.user or meta.get("name") == me:
                continue
            if meta.get("deletionTimestamp"):
                continue
            name = meta.get("name")
            try:
                their_login = DatabaseSource.model_validate(dict(theirs)).login(proxy_iam)
            except ValidationError:
                continue
            if their_login != login:
                raise TerminalError(
                    f"spec.source.database.auth: {login}, but UpskillSecret {name} has spec.source.database.auth:"
                    f" {their_login} for the same user {source.user} of {what}; one user logs in one way",
                    reason="AuthConflict",
                )
            if (str(meta.get("creationTimestamp") or ""), str(name)) < mine:
                raise TerminalError(
                    f"spec.source.database.user: {source.user} of {what} is already kept by UpskillSecret {name};"
                    " one UpskillSecret per database user (each keeps its own password): name another user",
                    reason="UserTaken",
                )

    def _app_user(
        self,
        source: DatabaseSource,
        login: str,
        status: DatabaseStatus,
        what: str,
        dbname: str,
        address: Address,
        master: tuple[str, SecretStr],
        origin: DatabaseOrigin,
    ) -> Resolved:
        """An application user: the operator keeps role ``source.user`` and its password (see AppUser)."""
        role = str(source.user)
        if role == master[0]:
            raise TerminalError(
                f"spec.source.database.user: {role} is the master user of {what}; "
                "omit user to use the master user's credentials",
                reason="MasterUserNamed",
            )
        writer = status.endpoints.writer if status.endpoints else None
        if not writer:
            raise Waiting(f"waiting for {what} to report its writer endpoint (roles are created there)")
        admin = self._resolver(writer, status.port or DEFAULT_PORT)
        admin = Address(admin.host, admin.port, self._admin_tls)
        region = self._region
        token_login = login == "IAM" and source.endpoint in ("writer", "reader")
        groups = tuple(dict.fromkeys([*source.member_of, *([IAM_GROUP] if token_login else [])]))

        def build(password: SecretStr) -> SecretStr:
            return connection_document(role, password, address, dbname, auth=login, region=region)

        return Resolved(
            origin=f"{what} ({source.endpoint}, user {role})",
            database=origin,
            app_user=AppUser(
                role=role,
                dbname=dbname,
                build=build,
                admin={"host": admin.host, "port": str(admin.port), **admin.params},
                master_user=master[0],
                master_password=master[1],
                policy=APP_PASSWORD_POLICY,
                groups=groups,
                token_login=token_login,
            ),
            sync_field="url" if source.format == "url" else None,
            hidden=IAM_HIDDEN_FIELDS if login == "IAM" else (),
        )

    def _own_cluster(self, namespace: str, ref: str, status: DatabaseStatus, what: str) -> tuple[str, str]:
        """(cluster identifier, master secret ARN) as RDS reports them, once the cluster is proven the database's."""
        identifier = status.cluster_identifier
        if not identifier:
            raise Waiting(f"waiting for {what} to report its cluster")
        try:
            arn = own_master_secret(self._rds, identifier, f"{namespace}/{ref}", "spec.source.database.ref")
        except NotFoundError:
            raise Waiting(f"waiting for the cluster of {what}") from None
        if arn is None:
            raise Waiting(f"waiting for {what} to report its master user secret")
        return identifier, arn

    @staticmethod
    def _parse(found: Mapping[str, Any], what: str) -> tuple[DatabaseStatus, str]:
        try:
            status = DatabaseStatus.model_validate(found.get("status") or {})
        except ValidationError:
            raise Waiting(f"waiting for {what}: its status is not readable yet") from None
        dbname = str((found.get("spec") or {}).get("databaseName") or "")
        if not dbname:
            raise Waiting(f"waiting for {what}: it names no databaseName")
        return status, dbname


def _proxy_iam(spec: Mapping[str, Any]) -> str:
    proxy = mapping(spec, "proxy")
    return str(proxy.get("iamAuth") or "Required")


def check_auth(source: DatabaseSource, spec: Mapping[str, Any], what: str) -> str:
    """The effective auth of ``source`` against the UpskillDatabase's spec; TerminalError for a contradiction.

    Pure: run before anything is read from or written to AWS.
    """
    proxy_iam = _proxy_iam(spec)
    login = source.login(proxy_iam)
    on_proxy = source.endpoint in ("proxy", "proxyReadOnly")
    field = f"spec.source.database.auth: {login}"
    if source.user is None and on_proxy and login == "Password" and proxy_iam == "Required":
        problem = f"{what} has spec.proxy.iamAuth: Required, so the proxy refuses the master user's password"
    elif source.user is None and on_proxy and login == "IAM" and proxy_iam == "Disabled":
        problem = f"{what} has spec.proxy.iamAuth: Disabled, so the proxy refuses the master user's IAM tokens"
    elif not on_proxy and login == "IAM" and spec.get("iamAuthentication") is False:
        problem = f"{what} has spec.iamAuthentication: false, so the cluster refuses IAM tokens"
    elif not on_proxy and login == "IAM" and source.user is None:
        problem = f"the master user of {what} logs in with its password on {source.endpoint}"
    else:
        return login
    raise TerminalError(f"{field}, but {problem}", reason="AuthContradiction")


def _migrated(found: Mapping[str, Any]) -> bool:
    conditions = (found.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "MigrationsApplied" and c.get("status") == "True" for c in conditions)


def _ready(found: Mapping[str, Any]) -> bool:
    conditions = (found.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
