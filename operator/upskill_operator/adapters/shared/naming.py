"""Deterministic AWS names for custom resources.

A resource's AWS name is a pure function of (prefix, namespace, name): after an
operator restart, or with status lost, the same object is found again by name,
never created twice. Names too long for AWS are truncated and given a short hash
of the full name, so two long names that share a prefix stay distinct.

Joining with ``-`` is ambiguous (``team-a``/``x`` and ``team``/``a-x`` both give
``team-a-x``). For objects the operator created that is safe: every object carries the
ownership tag, so the second resource is refused with ForeignOwner instead of sharing a
table. For an untagged object it is not, so :func:`rival_namespaces` lists the other
namespaces that derive the same name, and such a name is adoptable only under an
administrator's grant (see ``Target.in_scope``).
"""

from __future__ import annotations

import hashlib
import re

from upskill_operator.errors import TerminalError

__all__ = ["DYNAMODB_NAME", "HASH_LENGTH", "aws_name", "check_name", "pinned", "rival_namespaces"]

DYNAMODB_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
"""DynamoDB table and index names."""

NAMESPACE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
"""A Kubernetes namespace name (RFC 1123 label)."""

HASH_LENGTH = 8
"""Hex digits of SHA-256 appended to a truncated name: 32 bits, collisions are negligible per account."""


def check_name(name: str, *, max_length: int, allowed: re.Pattern[str] = DYNAMODB_NAME, field: str = "name") -> str:
    """Return ``name`` if AWS accepts it, else raise a TerminalError naming the rule it breaks."""
    if len(name) > max_length:
        raise TerminalError(
            f"{field}: {name[:60]!r} is {len(name)} characters; AWS allows {max_length}", reason="InvalidName"
        )
    if not allowed.fullmatch(name):
        raise TerminalError(f"{field}: {name[:60]!r} does not match {allowed.pattern}", reason="InvalidName")
    return name


def aws_name(
    prefix: str,
    namespace: str,
    name: str,
    *,
    max_length: int,
    allowed: re.Pattern[str] = DYNAMODB_NAME,
    explicit: str | None = None,
    field: str = "name",
) -> str:
    """``<prefix>-<namespace>-<name>``, shortened with a stable hash when longer than ``max_length``.

    ``explicit`` is a name the user chose (e.g. ``spec.tableName``): it is used as given,
    and refused with a TerminalError (reported on ``field``) when AWS would refuse it.
    """
    if explicit is not None:
        return check_name(explicit, max_length=max_length, allowed=allowed, field=field)
    if max_length < HASH_LENGTH + 2:
        raise ValueError(f"max_length {max_length} leaves no room for a name and its hash")
    full = "-".join(part for part in (prefix, namespace, name) if part)
    if len(full) > max_length:
        digest = hashlib.sha256(full.encode()).hexdigest()[:HASH_LENGTH]
        head = full[: max_length - HASH_LENGTH - 1].rstrip("-.")
        full = f"{head}-{digest}"
    return check_name(full, max_length=max_length, allowed=allowed, field=field)


def pinned(field: str, name: str, recorded: object) -> str:
    """``name``, unless status recorded another name for the object (``recorded``): Terminal then.

    The name is the object's identity. Once status records it (``tableName``, ``secretName``,
    ``clusterIdentifier``), a spec asking for another name would silently orphan the first object.
    """
    if recorded and recorded != name:
        raise TerminalError(
            f"{field}: immutable after creation (AWS has {recorded}, spec asks {name})", reason="ImmutableField"
        )
    return name


def rival_namespaces(namespace: str, name: str) -> tuple[str, ...]:
    """Other namespaces whose resources derive the same ``<namespace>-<name>`` join as this one.

    The join splits at any other hyphen into a namespace (a DNS label) and a non-empty resource name
    starting with a letter or digit: ``team-a``/``x`` has the rival ``team`` (its resource ``a-x``),
    ``team``/``a-x`` the rival ``team-a``. A prefix (or a hash of a long join) changes nothing: the same
    join gives the same name. Pure.
    """
    joined = f"{namespace}-{name}"
    rivals = []
    for index, char in enumerate(joined):
        head, rest = joined[:index], joined[index + 1 :]
        if char == "-" and index != len(namespace) and NAMESPACE_NAME.fullmatch(head) and rest[:1].isalnum():
            rivals.append(head)
    return tuple(rivals)
