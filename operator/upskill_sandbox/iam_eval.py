"""A small IAM policy evaluator: the decision AWS documents for identity policies and a permissions boundary.

moto's own access control matches actions and resources only (every Condition passes, and most
services authorise against ``*``), so the enforcing bed (:mod:`.iam_enforcer`) and the policy tests
decide with this instead. It implements what our policies use, the way AWS's "Policy evaluation
logic" and "IAM JSON policy elements: Condition operators" pages describe it:

- an explicit ``Deny`` wins; otherwise some ``Allow`` must match; with a boundary, both the identity
  policies and the boundary must allow;
- ``Action``/``NotAction`` (case-insensitive, ``*`` and ``?``), ``Resource``/``NotResource``;
- condition blocks: every operator and every key must hold (AND), any listed value may match (OR);
  a missing key fails positive operators and satisfies negated ones, ``...IfExists`` passes when the
  key is missing; ``Null``; ``Bool``; ``String*``, ``Arn*`` (each of the six ARN parts on its own);
  ``ForAnyValue:`` and ``ForAllValues:`` over multivalued keys. Condition key names are
  case-insensitive. An operator it does not know raises: the evaluator never guesses "allow".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Decision", "Request", "evaluate"]

Context = Mapping[str, str | Sequence[str]]


@dataclass(frozen=True)
class Request:
    """One authorisation: an action on a resource ARN, with its request context (condition keys)."""

    action: str
    resource: str
    context: Context = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    """``Allow``, ``ExplicitDeny``, ``ImplicitDeny`` or ``BoundaryDeny``."""
    statements: tuple[str, ...] = ()
    """Sids of the identity statements that allowed it."""


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def _arn_like(pattern: str, value: str) -> bool:
    parts, values = pattern.split(":", 5), value.split(":", 5)
    return len(parts) == len(values) == 6 and all(_glob(p, v) for p, v in zip(parts, values, strict=True))


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str | bool | int):
        return [str(value)]
    return [str(v) for v in value]


_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda p, v: p == v,
    "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
    "StringLike": lambda p, v: _glob(p, v),
    "ArnEquals": lambda p, v: p == v,
    "ArnLike": _arn_like,
    "Bool": lambda p, v: p.lower() == v.lower(),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _lookup(context: Context, key: str) -> list[str] | None:
    for name, value in context.items():
        if name.lower() == key.lower():
            return _as_list(value)
    return None


def _condition(operator: str, key: str, wanted: list[str], context: Context) -> bool:
    found = _lookup(context, key)
    if operator == "Null":
        return (found is None) == (wanted[0].lower() == "true")
    qualifier, _, operator = operator.rpartition(":")
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    negated = operator in _NEGATED
    base = _NEGATED.get(operator, operator)
    if base not in _MATCHERS:
        raise ValueError(f"condition operator {operator!r} is not supported by this evaluator")
    match = _MATCHERS[base]

    def one(value: str) -> bool:
        hit = any(match(p, value) for p in wanted)
        return not hit if negated else hit

    if found is None or (qualifier and not found):
        if if_exists or qualifier == "ForAllValues":
            return True
        return negated and qualifier != "ForAnyValue"
    if qualifier == "ForAllValues":
        return all(one(v) for v in found)
    if qualifier in ("ForAnyValue", ""):
        return any(one(v) for v in found) if qualifier else one(found[0])
    raise ValueError(f"condition qualifier {qualifier!r} is not supported by this evaluator")


def _conditions_hold(block: Mapping[str, Mapping[str, Any]], context: Context) -> bool:
    return all(
        _condition(operator, key, _as_list(values), context)
        for operator, keys in block.items()
        for key, values in keys.items()
    )


def _element(statement: Mapping[str, Any], positive: str, negative: str, value: str, *, ignore_case: bool) -> bool:
    if positive in statement:
        return any(_glob(p, value, ignore_case=ignore_case) for p in _as_list(statement[positive]))
    if negative in statement:
        return not any(_glob(p, value, ignore_case=ignore_case) for p in _as_list(statement[negative]))
    return False


def _statements(policy: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    found = policy.get("Statement", [])
    return [found] if isinstance(found, Mapping) else found


def _applies(statement: Mapping[str, Any], request: Request) -> bool:
    return (
        _element(statement, "Action", "NotAction", request.action, ignore_case=True)
        and _element(statement, "Resource", "NotResource", request.resource, ignore_case=False)
        and _conditions_hold(statement.get("Condition", {}), request.context)
    )


def _decide(policies: Sequence[Mapping[str, Any]], request: Request) -> tuple[str, tuple[str, ...]]:
    allowed: list[str] = []
    for policy in policies:
        for index, statement in enumerate(_statements(policy)):
            if not _applies(statement, request):
                continue
            if statement.get("Effect") == "Deny":
                return "ExplicitDeny", ()
            allowed.append(str(statement.get("Sid", index)))
    return ("Allow", tuple(allowed)) if allowed else ("ImplicitDeny", ())


def evaluate(
    policies: Sequence[Mapping[str, Any]], request: Request, boundary: Mapping[str, Any] | None = None
) -> Decision:
    """Whether identity ``policies`` (limited by ``boundary``, when given) allow ``request``."""
    reason, sids = _decide(policies, request)
    if reason != "Allow":
        return Decision(False, reason)
    if boundary is not None and _decide([boundary], request)[0] != "Allow":
        return Decision(False, "BoundaryDeny")
    return Decision(True, "Allow", sids)
