"""Object metadata as the real API server treats it: generated names, server-owned fields, checks.

The checks are the ones that catch real operator bugs early (names that are not DNS subdomains,
label values that are too long or have bad characters, non-string labels) and are worded as the
real server words them.
"""

from __future__ import annotations

import copy
import datetime
import json
import random
import re
from typing import Any

from upskill_sandbox import kube_errors
from upskill_sandbox.kube_errors import Cause

__all__ = [
    "SERVER_FIELDS",
    "check_meta_types",
    "content_changed",
    "deep",
    "generate_name",
    "meta_causes",
    "now",
    "protect_server_fields",
    "qualified_name_causes",
]

# Fields the server owns: clients cannot set or change them through create/update/patch.
SERVER_FIELDS = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "resourceVersion",
    "selfLink",
    "managedFields",
)

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = rf"{_DNS_LABEL}(\.{_DNS_LABEL})*"
_LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_NAME_PART = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_GENERATED_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the real server's: no vowels, no look-alikes
_GENERATED_PREFIX_LIMIT = 58  # apiserver's SimpleNameGenerator: 63 minus the 5 random characters


def now() -> str:
    """A timestamp as the server writes them: RFC 3339, UTC, whole seconds."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_name(prefix: str) -> str:
    """``generateName`` (its first 58 characters) + 5 random characters, as the real server does it."""
    return prefix[:_GENERATED_PREFIX_LIMIT] + "".join(random.choice(_GENERATED_ALPHABET) for _ in range(5))


def check_meta_types(obj: Any) -> None:
    """Refuse bodies that a Go server could not even decode (400, as the real server answers)."""
    if not isinstance(obj, dict):
        raise kube_errors.bad_request("the body of the request was not a JSON object")
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise kube_errors.bad_request("json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta")
    for field in ("labels", "annotations"):
        values = meta.get(field)
        if values is not None and not (isinstance(values, dict) and all(isinstance(v, str) for v in values.values())):
            raise kube_errors.bad_request(
                f"json: cannot unmarshal into Go struct field ObjectMeta.metadata.{field} of type string"
            )
    finalizers = meta.get("finalizers")
    if finalizers is not None and not (isinstance(finalizers, list) and all(isinstance(f, str) for f in finalizers)):
        raise kube_errors.bad_request("json: cannot unmarshal into Go struct field ObjectMeta.metadata.finalizers")


def _name_causes(name: str, *, label_only: bool) -> list[Cause]:
    if label_only:
        if len(name) <= 63 and re.fullmatch(_DNS_LABEL, name):
            return []
        text = (
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
            f"start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
            f"validation is '{_DNS_LABEL}')"
        )
    else:
        if len(name) <= 253 and re.fullmatch(_DNS_SUBDOMAIN, name):
            return []
        text = (
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
            "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
            f"validation is '{_DNS_SUBDOMAIN}')"
        )
    return [Cause("metadata.name", f"Invalid value: {json.dumps(name)}: {text}")]


def qualified_name_causes(field: str, key: str) -> list[Cause]:
    prefix, _, name = key.rpartition("/")
    ok = bool(re.fullmatch(_NAME_PART, name)) and len(name) <= 63
    ok = ok and (not prefix or (len(prefix) <= 253 and bool(re.fullmatch(_DNS_SUBDOMAIN, prefix))))
    if ok:
        return []
    return [
        Cause(
            field,
            f"Invalid value: {json.dumps(key)}: name part must consist of alphanumeric characters, "
            "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  "
            f"or 'my.name',  or '123-abc', regex used for validation is '{_NAME_PART}') with an "
            "optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        )
    ]


def meta_causes(meta: dict[str, Any], *, label_only_name: bool) -> list[Cause]:
    """Validation failures of names, label keys and values, and annotation keys."""
    causes = _name_causes(str(meta.get("name", "")), label_only=label_only_name)
    for key, value in (meta.get("labels") or {}).items():
        causes += qualified_name_causes("metadata.labels", key)
        if len(value) > 63:
            causes.append(
                Cause("metadata.labels", f"Invalid value: {json.dumps(value)}: must be no more than 63 characters")
            )
        elif not re.fullmatch(_LABEL_VALUE, value):
            causes.append(
                Cause(
                    "metadata.labels",
                    f"Invalid value: {json.dumps(value)}: a valid label must be an "
                    "empty string or consist of alphanumeric characters, '-', '_' "
                    "or '.', and must start and end with an alphanumeric character "
                    f"(regex used for validation is '{_LABEL_VALUE}')",
                )
            )
    for key in meta.get("annotations") or {}:
        causes += qualified_name_causes("metadata.annotations", key)
    return causes


def protect_server_fields(new: dict[str, Any], current: dict[str, Any]) -> None:
    """Keep identity and server-owned metadata of the stored object whatever the client sent."""
    new_meta, old_meta = new["metadata"], current["metadata"]
    for field in (*SERVER_FIELDS, "name", "namespace", "generateName"):
        if field in old_meta and field != "managedFields":
            new_meta[field] = old_meta[field]
        else:
            new_meta.pop(field, None)


def content_changed(old: dict[str, Any], new: dict[str, Any], *, ignore_status: bool) -> bool:
    """Whether anything but metadata (and status, with a status subresource) differs: bumps generation."""
    skipped = ("metadata", "status") if ignore_status else ("metadata",)
    return {k: v for k, v in old.items() if k not in skipped} != {k: v for k, v in new.items() if k not in skipped}


def deep(obj: dict[str, Any]) -> dict[str, Any]:
    """A private deep copy for the write path (stored objects are shared and never mutated)."""
    return copy.deepcopy(obj)
