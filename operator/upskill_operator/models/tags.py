"""Tag bookkeeping, written once: AWS's tag list shape, the ownership tag, and which keys to set or remove.

Pure functions over plain dicts. They sit in the lowest layer because every layer needs them: the
AWS façades build request tag lists, adapters read describe results and plan tag writes, and the
engine may collect managed keys. The one rule about removal: a key is removed only when the
operator set it before (it is in ``managed_before``), the spec no longer wants it, and AWS still
has it. Tags someone else put on an object are never touched.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

__all__ = [
    "OWNER_TAG",
    "UID_TAG",
    "keys_after",
    "keys_to_remove",
    "managed_keys",
    "owner_of",
    "tag_changes",
    "tag_dict",
    "tag_list",
    "tags_to_set",
]

OWNER_TAG = "upskill.io/owner"
"""Names the resource (``<namespace>/<name>``) that manages an AWS object."""
UID_TAG = "upskill.io/uid"
"""The managing resource's metadata.uid."""


def tag_dict(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """``[{"Key": k, "Value": v}, ...]`` (as AWS returns tags) as ``{k: v}``; None or empty gives ``{}``."""
    return {tag["Key"]: tag["Value"] for tag in tags or ()}


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """``{k: v}`` as the ``[{"Key": k, "Value": v}, ...]`` AWS requests take, in the mapping's order."""
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def owner_of(tags: Mapping[str, str]) -> str | None:
    """The ownership tag's value, or None when the object carries none."""
    return tags.get(OWNER_TAG)


def tags_to_set(wanted: Mapping[str, str], present: Mapping[str, str]) -> dict[str, str]:
    """The wanted tags AWS lacks or holds with another value."""
    return {key: value for key, value in wanted.items() if present.get(key) != value}


def keys_to_remove(
    managed_before: Collection[str], wanted: Collection[str], present: Collection[str]
) -> tuple[str, ...]:
    """Keys we set before that the spec no longer wants and AWS still has, sorted. Foreign keys never."""
    return tuple(sorted(key for key in set(managed_before) if key not in wanted and key in present))


def tag_changes(
    wanted: Mapping[str, str], present: Mapping[str, str], managed_before: Collection[str]
) -> tuple[dict[str, str], tuple[str, ...]]:
    """(tags to set, keys to remove) that make ``present`` carry ``wanted``: :func:`tags_to_set` and
    :func:`keys_to_remove`."""
    return tags_to_set(wanted, present), keys_to_remove(managed_before, wanted, present)


def managed_keys(status: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys a resource's ``status.managedTagKeys`` records as set by the operator (``managed_before``)."""
    return tuple(str(key) for key in status.get("managedTagKeys") or ())


def keys_after(wanted: Collection[str], still_ours: Collection[str]) -> tuple[str, ...]:
    """The keys to record as managed (``status.managedTagKeys``): the wanted ones, plus those still ours to
    remove (a removal that has not happened yet must be retried by the next pass), sorted."""
    return tuple(sorted(set(wanted) | set(still_ours)))
