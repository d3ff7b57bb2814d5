"""CEL validation rules (``x-kubernetes-validations``) evaluated with ``cel-python`` (``celpy``).

Rules may sit at any level of the schema. Each rule sees ``self`` (the value at its level) and, for
transition rules (those mentioning ``oldSelf``), ``oldSelf``: the previous value, correlated through
object properties, map values and ``x-kubernetes-list-type: map`` items by key, as the real server
correlates them. Transition rules run only on updates where the old value exists. A failed rule
gives ``<path>: Invalid value: "<schema type>": <message>`` (``message``, else the value of
``messageExpression``, else ``failed rule: <rule>``); ``reason`` and ``fieldPath`` are honoured.

Supported subset and its edges, on purpose never silent:

* The CEL standard library as ``celpy`` implements it, including ``has()``, ``size()``, macros
  (``all``, ``exists``, ``map``, ``filter``), string functions and ``matches``.
* A rule that does not parse makes the CRD itself invalid (422), as on a real server.
* A rule that calls a function outside that subset (Kubernetes extension libraries such as
  ``quantity()``, ``url()``, ``isSorted()``, ``indexOf()``) cannot be evaluated here: a warning is
  logged once per rule and the rule is treated as passing. That is the only case that passes.
* Any other evaluation error (missing field without ``has()``, type mismatch, division by zero)
  fails the rule, as a runtime error does on a real server.
* ``optionalOldSelf`` is not supported: such rules run only when the old value exists.
* Rules run only when the OpenAPI validation of the object passed, to avoid cascades of noise.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError

from upskill_sandbox.kube_errors import Cause
from upskill_sandbox.kube_schema import BadSchemaError, field_path

__all__ = ["compile_rules", "rule_causes"]

logger = logging.getLogger(__name__)

_ENVIRONMENT = celpy.Environment()
_OLD_SELF = re.compile(r"\boldSelf\b")
_warned: set[str] = set()


@functools.lru_cache(maxsize=1024)
def _program(rule: str) -> Any:
    return _ENVIRONMENT.program(_ENVIRONMENT.compile(rule))


def compile_rules(schema: Any, where: str) -> None:
    """Parse every rule in a schema; a rule that does not parse makes the CRD invalid."""
    if not isinstance(schema, dict):
        return
    for index, spec in enumerate(schema.get("x-kubernetes-validations") or []):
        rule = spec.get("rule") if isinstance(spec, dict) else None
        if not isinstance(rule, str):
            raise BadSchemaError(f"{where}.x-kubernetes-validations[{index}].rule: Required value")
        try:
            _program(rule)
        except CELParseError as exc:
            raise BadSchemaError(
                f"{where}.x-kubernetes-validations[{index}].rule: Invalid value: {rule!r}: compilation failed: {exc}"
            ) from exc
    for key, sub in (schema.get("properties") or {}).items():
        compile_rules(sub, f"{where}.properties[{key}]")
    for key in ("items", "additionalProperties"):
        compile_rules(schema.get(key), f"{where}.{key}")


def rule_causes(schema: Any, new: Any, old: Any, *, has_old: bool) -> list[Cause]:
    """Evaluate every rule reachable in ``new``; ``old`` is the stored object on updates."""
    causes: list[Cause] = []
    _walk(schema, new, old, has_old, [], causes)
    return causes


def _walk(schema: Any, value: Any, old: Any, has_old: bool, path: list[str | int], causes: list[Cause]) -> None:
    if not isinstance(schema, dict):
        return
    for spec in schema.get("x-kubernetes-validations") or []:
        cause = _evaluate(spec, schema, value, old, has_old, path)
        if cause is not None:
            causes.append(cause)
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key, additional)
            old_has = has_old and isinstance(old, dict) and key in old
            _walk(sub, item, old.get(key) if old_has else None, old_has, [*path, key], causes)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        olds = _correlate_list(schema, old if has_old else None)
        keys = schema.get("x-kubernetes-list-map-keys") or []
        for index, item in enumerate(value):
            key = _item_key(item, keys)
            old_item = olds.get(key) if key is not None else None
            _walk(schema["items"], item, old_item, key in olds, [*path, index], causes)


def _item_key(item: Any, keys: list[str]) -> tuple[Any, ...] | None:
    if not keys or not isinstance(item, dict):
        return None
    return tuple(repr(item.get(key)) for key in keys)


def _correlate_list(schema: dict[str, Any], old: Any) -> dict[tuple[Any, ...], Any]:
    """Only map-type lists correlate items across versions (by their keys), as on a real server."""
    keys = schema.get("x-kubernetes-list-map-keys") or []
    if schema.get("x-kubernetes-list-type") != "map" or not isinstance(old, list):
        return {}
    correlated: dict[tuple[Any, ...], Any] = {}
    for item in old:
        key = _item_key(item, keys)
        if key is not None:
            correlated[key] = item
    return correlated


def _evaluate(
    spec: Any, schema: dict[str, Any], value: Any, old: Any, has_old: bool, path: list[str | int]
) -> Cause | None:
    rule = spec.get("rule", "") if isinstance(spec, dict) else ""
    transition = bool(_OLD_SELF.search(rule))
    if transition and not has_old:
        return None
    activation = {"self": json_to_cel(value)}
    if transition:
        activation["oldSelf"] = json_to_cel(old)
    try:
        result = _program(rule).evaluate(activation)
    except CELEvalError as exc:
        detail = str(exc.args[0]) if exc.args else str(exc)
        if _unsupported(rule, detail):
            return None
        return _failure(spec, schema, path, f"{detail} evaluating rule: {rule}")
    if isinstance(result, celtypes.BoolType) and bool(result):
        return None
    return _failure(spec, schema, path, _message(spec, activation))


def _unsupported(rule: str, detail: str) -> bool:
    """A call to a function celpy lacks: warn once and let it pass (documented in the module)."""
    match = re.match(r"undeclared reference to '([^']+)'", detail)
    if match is None or not re.search(rf"\b{re.escape(match.group(1))}\s*\(", rule):
        return False
    if rule not in _warned:
        _warned.add(rule)
        logger.warning(
            "CEL rule %r uses %r, which the emulator cannot evaluate; treating it as passing.", rule, match.group(1)
        )
    return True


def _message(spec: dict[str, Any], activation: dict[str, Any]) -> str:
    if isinstance(spec.get("message"), str) and spec["message"]:
        return str(spec["message"])
    expression = spec.get("messageExpression")
    if isinstance(expression, str):
        try:
            text = _program(expression).evaluate(activation)
        except (CELEvalError, CELParseError):
            text = None
        if isinstance(text, str) and text:
            return str(text)
    return f"failed rule: {spec.get('rule', '')}"


def _failure(spec: dict[str, Any], schema: dict[str, Any], path: list[str | int], message: str) -> Cause:
    field = field_path(path)
    extra = spec.get("fieldPath")
    if isinstance(extra, str) and extra:
        field = f"{field}{extra}" if extra.startswith(("[", ".")) else f"{field}.{extra}"
        field = field.lstrip(".")
    type_name = schema.get("type") or "object"
    reason = spec.get("reason") or "FieldValueInvalid"
    texts = {
        "FieldValueForbidden": f"Forbidden: {message}",
        "FieldValueRequired": f"Required value: {message}",
        "FieldValueDuplicate": f"Duplicate value: {message}",
    }
    return Cause(field, texts.get(reason, f'Invalid value: "{type_name}": {message}'), reason)
