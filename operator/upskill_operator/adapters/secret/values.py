"""Values in flight between the UpskillSecret adapters, and the version ids derived from them.

Nothing here prints a value: every value is a ``SecretStr`` and every dataclass that holds one
shows ``**********`` in its ``repr``. These objects travel between adapters in a pass's outputs
under keys starting with ``_``, which no status model declares, so they are never published.

Version ids (Secrets Manager's ``ClientRequestToken``) are derived, never random:

* a value the operator copies (``fromSecret``, ``database``): from the resource's uid and a slow,
  salted digest of the content (PBKDF2, so a version id shown in status cannot be brute-forced
  back into a weak value cheaply). Writing the same content twice gives the same id: a retry
  after a crash is a no-op in AWS.
* a value the operator generates: from the uid and the *intent* (first value, rotation after
  version X, manual request R, policy P), because the content is random. A retry of the same
  intent reuses the id, and the observer can tell that the intent was already carried out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import SecretStr

from upskill_operator.aws.secretsmanager import PasswordPolicy
from upskill_operator.errors import TerminalError
from upskill_operator.models.secret import GenerateSource, KeyMapping

__all__ = [
    "CURRENT_KEY",
    "SOURCE_KEY",
    "AppUser",
    "Current",
    "DatabaseOrigin",
    "Resolved",
    "content_token",
    "field_values",
    "password_policy",
    "policy_digest",
    "same_value",
    "short_hash",
    "version_token",
    "without_fields",
]

SOURCE_KEY = "_source"
"""Outputs key: the :class:`Resolved` value the source adapter found."""
CURRENT_KEY = "_current"
"""Outputs key: the :class:`Current` AWSCURRENT version the secret adapter read."""

_PBKDF2_ROUNDS = 20_000
_cache: dict[bytes, str] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class DatabaseOrigin:
    """Where a database value's credentials come from, for rotation and for following changes."""

    database: str
    cluster_identifier: str | None
    master_secret_arn: str | None
    credentials_created: dt.datetime | None
    """When the credentials in use were created (the master secret's AWSCURRENT version)."""
    credentials_version: str | None


@dataclass(frozen=True)
class AppUser:
    """A ``database`` source with a named application user: the operator owns the role's password.

    The secret's value is the role's credential record (JSON, see
    :func:`~.secret_database.connection_document`) whatever ``format`` says, because that is the
    shape RDS Proxy and AWS's rotation functions read; ``format: url`` only means apps get the
    record's ``url`` field. ``build`` makes the record for a password, ``admin`` is where the
    operator connects as the master user to create or re-password the role.
    """

    role: str
    dbname: str
    build: Callable[[SecretStr], SecretStr] = field(repr=False)
    admin: Mapping[str, str]
    """libpq keywords (host, port, sslmode ...) of the writer endpoint, without credentials."""
    master_user: str
    master_password: SecretStr = field(repr=False)
    policy: PasswordPolicy
    groups: tuple[str, ...] = ()
    """The group roles the operator keeps the role a member of: ``memberOf``, plus rds_iam for token logins."""
    token_login: bool = False
    """IAM on a cluster or instance endpoint: the role logs in with a token, so no password is tried."""


@dataclass(frozen=True)
class Resolved:
    """What the source asks for: a given content, or a generated value under a policy."""

    origin: str
    """Human text naming the source, for messages: ``Secret stripe-key key value``."""
    content: SecretStr | None = None
    policy: PasswordPolicy | None = None
    database: DatabaseOrigin | None = None
    app_user: AppUser | None = None
    sync_field: str | None = None
    """When set, ``target.key`` receives this field of the (JSON) value instead of the whole value."""
    hidden: tuple[str, ...] = ()
    """Fields of the JSON value never delivered to the Kubernetes Secret (an IAM user's password)."""

    @property
    def generated(self) -> bool:
        return self.policy is not None


@dataclass(frozen=True)
class Current:
    """The AWSCURRENT version of the secret in Secrets Manager."""

    version_id: str
    value: SecretStr = field(repr=False)
    created: dt.datetime | None
    previous_id: str | None = None


def version_token(uid: str, intent: str) -> str:
    """A version id (UUID form, which ClientRequestToken's 32-64 characters allow) for one write intent."""
    digest = hashlib.sha256(f"upskill.io/version\0{uid}\0{intent}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16]))


def content_token(uid: str, value: SecretStr) -> str:
    """The version id of a copied value: same uid and content, same id."""
    plain = value.get_secret_value().encode()
    key = hashlib.sha256(uid.encode() + b"\0" + plain).digest()
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    slow = hashlib.pbkdf2_hmac("sha256", plain, f"upskill.io/{uid}".encode(), _PBKDF2_ROUNDS).hex()
    token = version_token(uid, f"content:{slow}")
    with _cache_lock:
        if len(_cache) > 4096:
            _cache.clear()
        _cache[key] = token
    return token


def same_value(a: SecretStr | None, b: SecretStr | None) -> bool:
    """Constant-time equality of two values."""
    if a is None or b is None:
        return a is b
    return hmac.compare_digest(a.get_secret_value().encode(), b.get_secret_value().encode())


def short_hash(text: str, length: int = 16) -> str:
    """A short hex digest of a non-secret text (version ids, policies)."""
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def password_policy(source: GenerateSource) -> PasswordPolicy:
    return PasswordPolicy(
        length=source.length,
        exclude_characters=source.exclude_characters,
        exclude_numbers=source.exclude_numbers,
        exclude_punctuation=source.exclude_punctuation,
        exclude_uppercase=source.exclude_uppercase,
        exclude_lowercase=source.exclude_lowercase,
        include_space=source.include_space,
        require_each_included_type=source.require_each_included_type,
    )


def policy_digest(policy: PasswordPolicy) -> str:
    """A tag-sized digest of a generator policy: a changed policy means a new value."""
    return short_hash(json.dumps(policy.__dict__, sort_keys=True))


def without_fields(value: SecretStr, hidden: Sequence[str]) -> SecretStr:
    """The JSON value less the ``hidden`` fields (unchanged when nothing is hidden or it is not JSON)."""
    if not hidden:
        return value
    try:
        document = json.loads(value.get_secret_value())
    except ValueError:
        return value
    if not isinstance(document, dict):
        return value
    return SecretStr(json.dumps({k: v for k, v in document.items() if k not in hidden}, sort_keys=True))


def field_values(value: SecretStr, mappings: Sequence[KeyMapping]) -> dict[str, SecretStr]:
    """The Kubernetes Secret keys of a JSON value: ``{key: value[field]}``.

    Raises a TerminalError naming the field (never the value) when the value is not a JSON
    object or lacks a field.
    """
    try:
        document = json.loads(value.get_secret_value())
    except ValueError:
        document = None
    if not isinstance(document, Mapping):
        raise TerminalError(
            "the value in Secrets Manager is not a JSON object, so target.keys cannot be filled",
            reason="ValueNotJson",
        )
    out: dict[str, SecretStr] = {}
    for mapping in mappings:
        if mapping.field not in document or document[mapping.field] is None:
            raise TerminalError(
                f"target.keys: the JSON value has no field {mapping.field!r} (for key {mapping.key})",
                reason="ValueFieldMissing",
            )
        item = document[mapping.field]
        out[mapping.key] = SecretStr(item if isinstance(item, str) else json.dumps(item))
    return out
