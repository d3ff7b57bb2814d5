"""``path: message`` lines from a pydantic ValidationError, in the house style of :mod:`.rules`.

pydantic's built-in errors speak about "Input" (``Input should be a valid integer``); users read
``spec.backup.retentionDays: must be an integer (got string)``. Every line names the field and the
rule, and says what was given by its JSON type, its length or, for numbers and the short words of an
enum, its value. Other strings are never echoed: a spec holds no secret, but a value can carry
control characters or an injection attempt, and these lines go to events, logs and status.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

__all__ = ["format_errors", "json_type"]

_TYPES = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
}
_BOUNDS = {
    "less_than_equal": ("le", "must be at most"),
    "greater_than_equal": ("ge", "must be at least"),
    "less_than": ("lt", "must be less than"),
    "greater_than": ("gt", "must be greater than"),
}


def json_type(value: Any) -> str:
    """The JSON name of a value's type, as Kubernetes users know it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    return "object" if isinstance(value, dict) else type(value).__name__


def _shown(value: Any) -> str:
    """A number as written, a short plain word quoted, anything else by its type."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and len(value) <= 40 and value.isascii() and value.isprintable():
        return repr(value)
    return json_type(value)


def _count(err: ErrorDetails) -> str:
    ctx, value = err.get("ctx") or {}, err.get("input")
    got = len(value) if isinstance(value, list | tuple | dict) else ctx.get("actual_length")
    if err["type"] == "too_long":
        limit, words = ctx.get("max_length"), "must have at most"
    else:
        limit, words = ctx.get("min_length"), "must have at least"
    return f"{words} {limit} item{'' if limit == 1 else 's'} (got {got})"


def _literal(err: ErrorDetails) -> str:
    return f"must be one of {(err.get('ctx') or {}).get('expected')} (got {_shown(err.get('input'))})"


def _length(err: ErrorDetails) -> str:
    ctx, value = err.get("ctx") or {}, err.get("input")
    size = len(value) if isinstance(value, str) else "?"
    if err["type"] == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters (got {size})"
    return f"must be at least {ctx.get('min_length')} characters (got {size})"


_WORDING: dict[str, Callable[[ErrorDetails], str]] = {
    "extra_forbidden": lambda _: "unknown field (not in this kind's schema)",
    "missing": lambda _: "required",
    "literal_error": _literal,
    "enum": _literal,
    "string_too_long": _length,
    "string_too_short": _length,
    "too_long": _count,
    "too_short": _count,
    "string_pattern_mismatch": lambda err: f"must match {(err.get('ctx') or {}).get('pattern')}",
}


def _message(err: ErrorDetails) -> str:
    kind = err["type"]
    if kind in _TYPES:
        return f"{_TYPES[kind]} (got {json_type(err.get('input'))})"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"{words} {(err.get('ctx') or {}).get(key)} (got {_shown(err.get('input'))})"
    if kind in _WORDING:
        return _WORDING[kind](err)
    return err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")


_PLAIN = re.compile(r"[A-Za-z0-9_-]+")


def _loc(parts: Sequence[int | str]) -> str:
    """Render a pydantic error location (already in wire names) as ``keys.partition.type`` or ``gsi[0]``.

    A map key that is not a plain word (a tag key, say) is quoted and escaped: ``tags['a\\nb']``.
    """
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN.fullmatch(part):
            out += ("." if out else "") + part
        else:
            out += f"[{part[:40]!r}]"
    return out


def format_errors(exc: ValidationError, prefix: str = "spec") -> list[str]:
    """One ``path: message`` line per problem, naming the field and the rule (see the module docstring)."""
    lines = []
    for err in exc.errors(include_url=False):
        path = _loc(err["loc"])
        lines.append(f"{prefix}.{path}: {_message(err)}" if path else f"{prefix}: {_message(err)}")
    return lines
