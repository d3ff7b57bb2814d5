"""Label and field selectors for list and watch requests.

Supports the label-selector grammar clients actually send (``a=b``, ``a==b``, ``a!=b``, ``a``, ``!a``,
``a in (x,y)``, ``a notin (x,y)``, ``a>1``, ``a<1``) and field selectors on ``metadata.name``,
``metadata.namespace`` plus a few per-resource fields (e.g. ``involvedObject.*`` for events), as the
real server does. Unsupported field labels are refused with 400, as the real server refuses them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from upskill_sandbox import kube_errors

__all__ = ["Selector", "parse_field_selector", "parse_label_selector"]

Selector = Callable[[Mapping[str, Any]], bool]

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_OP_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|!=|=|>|<)\s*([A-Za-z0-9_.-]*)\s*$")

_COMMON_FIELDS = ("metadata.name", "metadata.namespace")
_EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "events": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "secrets": ("type",),
    "namespaces": ("status.phase",),
}


def _split_requirements(text: str) -> list[str]:
    """Split on commas that are not inside ``(...)`` value sets."""
    parts: list[str] = []
    depth, current = 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part for part in parts if part.strip()]


def _requirement(text: str) -> Selector:
    """Compile one requirement of a label selector into a predicate over a labels mapping."""
    if match := _OP_RE.match(text):
        key, op, value = match.groups()
        if op in ("=", "=="):
            return lambda labels: labels.get(key) == value
        if op == "!=":
            return lambda labels: labels.get(key) != value
        if not value.lstrip("-").isdigit():
            raise kube_errors.bad_request(
                f"unable to parse requirement: for 'gt', 'lt' operators, the value must be an integer: {text.strip()!r}"
            )
        bound, greater = int(value), op == ">"
        return lambda labels: _compare(labels.get(key), bound, greater=greater)
    if match := _SET_RE.match(text):
        negated, key, op, values_text = match.groups()
        if op is None:
            return (lambda labels: key not in labels) if negated else (lambda labels: key in labels)
        if negated:
            raise kube_errors.bad_request(f"unable to parse requirement: {text.strip()!r}")
        values = {value.strip() for value in values_text.split(",") if value.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    raise kube_errors.bad_request(f"unable to parse requirement: found {text.strip()!r}, expected a selector")


def _compare(raw: str | None, bound: int, *, greater: bool) -> bool:
    """The ``gt``/``lt`` operators: only labels holding integers can match."""
    try:
        number = int(raw) if raw is not None else None
    except ValueError:
        number = None
    if number is None:
        return False
    return number > bound if greater else number < bound


def parse_label_selector(text: str | None) -> Selector:
    """Compile a ``labelSelector`` query value into a predicate over whole objects."""
    requirements = [_requirement(part) for part in _split_requirements(text or "")]

    def check(obj: Mapping[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(requirement(labels) for requirement in requirements)

    return check


def _lookup(obj: Mapping[str, Any], dotted: str) -> str:
    value: Any = obj
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, Mapping):  # e.g. events' "source" is {component, host}
        value = value.get("component")
    return "" if value is None else str(value)


def parse_field_selector(text: str | None, plural: str) -> Selector:
    """Compile a ``fieldSelector`` query value; unsupported fields give 400 as on a real server."""
    allowed = _COMMON_FIELDS + _EXTRA_FIELDS.get(plural, ())
    checks: list[Selector] = []
    for part in _split_requirements(text or ""):
        match = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*$", part)
        if not match:
            raise kube_errors.bad_request(f"invalid selector: {part.strip()!r}; can't understand {part.strip()!r}")
        field, op, value = match.groups()
        if field not in allowed:
            raise kube_errors.bad_request(f"field label not supported: {field}")
        checks.append(_field_check(field, value, negated=op == "!="))
    return lambda obj: all(check(obj) for check in checks)


def _field_check(field: str, value: str, *, negated: bool) -> Selector:
    return lambda obj: (_lookup(obj, field) == value) != negated
