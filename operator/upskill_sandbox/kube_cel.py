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

Speed: a CRD's rules are compiled once, when it is registered (:func:`compile_rules` gives a
:class:`Rules` tree that only reaches the schema levels with rules at or below them), and a rule's
outcome is remembered per (rule, ``self``, ``oldSelf``) in a bounded table: evaluation is a pure
function of them, and most writes (status, finalizers, annotations) leave the spec the rules read
unchanged. Values are keyed by ``repr``, which tells apart everything ``json_to_cel`` does (key
order, ``1`` from ``1.0`` from ``True``, tuples from lists, int keys from string keys).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError

from upskill_sandbox.kube_errors import Cause
from upskill_sandbox.kube_schema import BadSchemaError, field_path

__all__ = ["Rules", "compile_rules", "rule_causes"]

logger = logging.getLogger(__name__)

_ENVIRONMENT = celpy.Environment()
_OLD_SELF = re.compile(r"\boldSelf\b")
_warned: set[str] = set()

_MAX_VERDICTS = 4096
_verdicts: dict[tuple[str, str, str | None], tuple[bool, str | None]] = {}
"""Outcomes by (rule, ``repr`` of self, of oldSelf): a rule is a pure function of them. Oldest out first."""


@functools.lru_cache(maxsize=1024)
def _program(rule: str) -> Any:
    return _ENVIRONMENT.program(_ENVIRONMENT.compile(rule))


@dataclass(frozen=True, eq=False)
class _Rule:
    spec: dict[str, Any]
    rule: str
    program: Any
    transition: bool


@dataclass(frozen=True, eq=False)
class Rules:
    """A schema's rules, compiled once (when the CRD is registered): a node per schema level with rules at or below it.

    ``properties`` holds every property of the schema (``None`` where no rule is below it), so that a
    key absent from it falls to ``additional`` exactly as the schema's ``properties``/``additionalProperties`` do.
    """

    schema: dict[str, Any]
    rules: tuple[_Rule, ...] = ()
    properties: dict[str, Rules | None] = field(default_factory=dict)
    additional: Rules | None = None
    items: Rules | None = None

    def causes(self, new: Any, old: Any, *, has_old: bool) -> list[Cause]:
        """Evaluate every rule reachable in ``new``; ``old`` is the stored object on updates."""
        causes: list[Cause] = []
        _walk(self, new, old, has_old, [], causes)
        return causes


def compile_rules(schema: Any, where: str) -> Rules | None:
    """Parse every rule in a schema; a rule that does not parse makes the CRD invalid. ``None``: no rules."""
    if not isinstance(schema, dict):
        return None
    rules = []
    for index, spec in enumerate(schema.get("x-kubernetes-validations") or []):
        rule = spec.get("rule") if isinstance(spec, dict) else None
        if not isinstance(rule, str):
            raise BadSchemaError(f"{where}.x-kubernetes-validations[{index}].rule: Required value")
        try:
            program = _program(rule)
        except CELParseError as exc:
            raise BadSchemaError(
                f"{where}.x-kubernetes-validations[{index}].rule: Invalid value: {rule!r}: compilation failed: {exc}"
            ) from exc
        rules.append(_Rule(spec, rule, program, bool(_OLD_SELF.search(rule))))
    properties = {
        key: compile_rules(sub, f"{where}.properties[{key}]") for key, sub in (schema.get("properties") or {}).items()
    }
    items = compile_rules(schema.get("items"), f"{where}.items")
    additional = compile_rules(schema.get("additionalProperties"), f"{where}.additionalProperties")
    if not rules and items is None and additional is None and all(sub is None for sub in properties.values()):
        return None
    return Rules(schema, tuple(rules), properties, additional, items)


def rule_causes(schema: Any, new: Any, old: Any, *, has_old: bool) -> list[Cause]:
    """Every rule of a raw schema reachable in ``new``, compiled here (a caller that repeats keeps a :class:`Rules`)."""
    rules = compile_rules(schema, "openAPIV3Schema")
    return [] if rules is None else rules.causes(new, old, has_old=has_old)


def _walk(node: Rules | None, value: Any, old: Any, has_old: bool, path: list[str | int], causes: list[Cause]) -> None:
    if node is None:
        return
    keys: list[str | None] = [None, None]  # repr of value and of old, made once for all rules here
    for rule in node.rules:
        cause = _evaluate(rule, node.schema, value, old, has_old, path, keys)
        if cause is not None:
            causes.append(cause)
    if isinstance(value, dict):
        properties = node.properties
        for key, item in value.items():
            sub = properties.get(key, node.additional)  # a property without rules is None, not additional's
            if sub is None:
                continue
            old_has = has_old and isinstance(old, dict) and key in old
            _walk(sub, item, old.get(key) if old_has else None, old_has, [*path, key], causes)
    elif isinstance(value, list) and node.items is not None:
        olds = _correlate_list(node.schema, old if has_old else None)
        map_keys = node.schema.get("x-kubernetes-list-map-keys") or []
        for index, item in enumerate(value):
            key = _item_key(item, map_keys)
            old_item = olds.get(key) if key is not None else None
            _walk(node.items, item, old_item, key in olds, [*path, index], causes)


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
    rule: _Rule,
    schema: dict[str, Any],
    value: Any,
    old: Any,
    has_old: bool,
    path: list[str | int],
    keys: list[str | None],
) -> Cause | None:
    if rule.transition and not has_old:
        return None
    if keys[0] is None:
        keys[0] = repr(value)
    if rule.transition and keys[1] is None:
        keys[1] = repr(old)
    verdict_key = (rule.rule, str(keys[0]), keys[1] if rule.transition else None)
    verdict = _verdicts.get(verdict_key)
    if verdict is None:
        verdict = _verdict(rule, value, old)
        if len(_verdicts) >= _MAX_VERDICTS:
            with contextlib.suppress(RuntimeError, StopIteration):  # another thread evicting at the same time
                _verdicts.pop(next(iter(_verdicts)), None)
        _verdicts[verdict_key] = verdict
    passed, detail = verdict
    if passed:
        return None
    if detail is not None:
        if _unsupported(rule.rule, detail):
            return None
        return _failure(rule.spec, schema, path, f"{detail} evaluating rule: {rule.rule}")
    return _failure(rule.spec, schema, path, _message(rule.spec, _activation(rule, value, old)))


def _activation(rule: _Rule, value: Any, old: Any) -> dict[str, Any]:
    activation = {"self": json_to_cel(value)}
    if rule.transition:
        activation["oldSelf"] = json_to_cel(old)
    return activation


def _verdict(rule: _Rule, value: Any, old: Any) -> tuple[bool, str | None]:
    """(passed, the evaluation error's text if it raised one)."""
    try:
        result = rule.program.evaluate(_activation(rule, value, old))
    except CELEvalError as exc:
        return False, str(exc.args[0]) if exc.args else str(exc)
    return isinstance(result, celtypes.BoolType) and bool(result), None


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
