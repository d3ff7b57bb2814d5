"""Structural-schema processing of custom objects: defaulting, pruning and OpenAPI validation.

The order follows the real API server: ``null`` values of non-nullable fields are dropped, schema
``default`` values are applied top-down (only where the parent object exists), unknown fields are
pruned unless ``x-kubernetes-preserve-unknown-fields`` keeps them, and the result is validated.

OpenAPI v3 schemas are validated with ``jsonschema`` (Draft 4, the closest dialect) after a
translation: ``nullable`` adds ``null`` to ``type``/``enum``; ``x-kubernetes-int-or-string`` becomes
``type: [integer, string]``; ``x-kubernetes-list-type: set`` becomes ``uniqueItems``, ``map`` a check
that items are unique by their ``x-kubernetes-list-map-keys``; other
``x-kubernetes-*`` keys are dropped; ``pattern`` is matched with Go's ``$`` (end of text, see
:func:`go_pattern`); ``multipleOf`` checks an integer value against ``int64(multipleOf)`` as
kube-openapi does (see :func:`_multiple_of`). ``format`` is not checked. ``metadata``, ``apiVersion`` and ``kind``
at the root are neither validated nor pruned (the server validates object metadata on its own).
Failures are worded as the real server words them, e.g.
``spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"``.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

import jsonschema

from upskill_sandbox.kube_errors import Cause

__all__ = [
    "BadSchemaError",
    "apply_defaults",
    "field_path",
    "json_type",
    "prune",
    "render_value",
    "schema_causes",
    "translate",
]

_ROOT_KEEP = ("apiVersion", "kind", "metadata")


class BadSchemaError(ValueError):
    """The CRD's schema itself is unusable (the CRD is refused with 422)."""


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value, as the server names it in messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def render_value(value: Any) -> str:
    """A value as Go's ``%#v`` roughly prints it in field errors: strings quoted, numbers bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e6:
        return str(int(value))  # Go prints float64(4) as 4
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return "null"
    return json.dumps(value, separators=(",", ":"))


def go_map(value: dict[str, Any]) -> str:
    """A ``map[string]interface{}`` as Go's ``%#v`` prints it: ``map[string]interface {}{"key":"A"}``."""
    items = ", ".join(f"{json.dumps(key)}:{render_value(item)}" for key, item in sorted(value.items()))
    return f"map[string]interface {{}}{{{items}}}"


def field_path(parts: Iterable[str | int]) -> str:
    """``['spec', 'items', 0, 'name']`` → ``spec.items[0].name``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def translate(schema: Any, *, root: bool = False) -> Any:
    """Turn an OpenAPI v3 structural schema into an equivalent Draft 4 JSON schema."""
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key.startswith("x-kubernetes-") or key in ("nullable", "default", "example", "externalDocs"):
            continue
        if key == "properties" and isinstance(value, dict):
            skipped = _ROOT_KEEP if root else ()
            result[key] = {name: translate(sub) for name, sub in value.items() if name not in skipped}
        elif key in ("items", "additionalProperties", "not"):
            result[key] = translate(value)
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            result[key] = [translate(sub) for sub in value]
        else:
            result[key] = value
    if root and isinstance(result.get("required"), list):
        result["required"] = [name for name in result["required"] if name not in _ROOT_KEEP]
    if schema.get("x-kubernetes-int-or-string"):
        result["type"] = ["integer", "string"]
    if schema.get("x-kubernetes-list-type") == "set":
        result["uniqueItems"] = True
    if schema.get("x-kubernetes-list-type") == "map":
        result[_MAP_KEYS] = list(schema.get("x-kubernetes-list-map-keys") or [])
    if schema.get("nullable"):
        if "type" in result:
            types = result["type"] if isinstance(result["type"], list) else [result["type"]]
            result["type"] = [*types, "null"]
        if "enum" in result:
            result["enum"] = [*result["enum"], None]
    return result


def apply_defaults(value: Any, schema: Any, *, root: bool = False) -> None:
    """Apply ``default`` values top-down, in place; drop ``null`` of non-nullable fields first."""
    if not isinstance(schema, dict):
        return
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        for key, sub in properties.items():
            if root and key in _ROOT_KEEP:
                continue
            _default_member(value, key, sub)
        if isinstance(additional, dict):
            for key in [key for key in value if key not in properties]:
                _default_member(value, key, additional)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(item, schema["items"])


def _default_member(parent: dict[str, Any], key: str, sub: Any) -> None:
    if not isinstance(sub, dict):
        return
    if key in parent and parent[key] is None and not sub.get("nullable"):
        del parent[key]
    if key not in parent and "default" in sub:
        parent[key] = copy.deepcopy(sub["default"])
    if key in parent:
        apply_defaults(parent[key], sub)


def prune(value: Any, schema: Any, path: list[str | int], pruned: list[str], *, root: bool = False) -> None:
    """Remove fields the schema does not declare (unless preserved), in place; record their paths."""
    if not isinstance(schema, dict) or schema.get("x-kubernetes-int-or-string"):
        return
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
        keep_meta = root or schema.get("x-kubernetes-embedded-resource") is True
        for key in list(value):
            if keep_meta and key in _ROOT_KEEP:
                continue
            if properties is not None and key in properties:
                prune(value[key], properties[key], [*path, key], pruned)
            elif isinstance(additional, dict):
                prune(value[key], additional, [*path, key], pruned)
            elif not (additional is True or preserve):
                del value[key]
                pruned.append(field_path([*path, key]))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            prune(item, schema["items"], [*path, index], pruned)


def go_pattern(pattern: str) -> str:
    r"""The Python spelling of a Go (RE2) ``pattern``: ``$`` ends the text, as in Go without ``(?m)``.

    Python's ``$`` also matches before a trailing newline, so ``^[a-z]+$`` would accept ``"orders\n"``,
    which the API server refuses. Outside character classes, an unescaped ``$`` becomes ``\Z``.
    """
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            out.append(r"\Z")
            continue
        out.append(char)
    return "".join(out)


def _pattern(
    validator: jsonschema.protocols.Validator, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    if validator.is_type(instance, "string") and not re.search(go_pattern(pattern), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_INT64 = range(-(2**63), 2**63)
_MAP_KEYS = "listMapKeys"  # x-kubernetes-list-type: map, translated for _list_map_keys
_POSITIVE = "multipleOfPositive"  # kube-openapi's MultipleOfMustBePositive, worded apart in _causes_of


def _multiple_of(
    validator: jsonschema.protocols.Validator, factor: float, instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """kube-openapi's ``multipleOf``: a value that decoded as an int64 is checked against ``int64(factor)``.

    The API server decodes a JSON number without fraction or exponent that fits in int64 as an integer
    (so ``4``, and ``4.0`` written in YAML, which kubectl sends as ``4``); ``int64(0.5)`` is 0, which
    kube-openapi refuses as a factor, so ``multipleOf: 0.5`` refuses every whole number. Other numbers
    are checked as float64: ``factor < 1`` multiplies by ``1/factor``, then the result must be integral.
    """
    if not validator.is_type(instance, "number"):
        return
    if isinstance(instance, int) and instance in _INT64:
        whole = int(factor)  # Go's int64() truncates toward zero
        if whole <= 0:
            yield jsonschema.ValidationError("factor must be positive", validator=_POSITIVE, validator_value=whole)
        elif instance % whole:
            yield jsonschema.ValidationError(f"{instance} is not a multiple of {whole}", validator_value=whole)
        return
    if factor <= 0:
        yield jsonschema.ValidationError("factor must be positive", validator=_POSITIVE, validator_value=factor)
        return
    multiple = 1 / factor * instance if factor < 1 else instance / factor
    if not _json_integer(multiple):
        yield jsonschema.ValidationError(f"{instance} is not a multiple of {factor}")


def _json_integer(value: float) -> bool:
    """go-openapi's IsFloat64AJSONInteger: within ±(2^53-1) and integral up to a relative 1e-9."""
    if not math.isfinite(value) or abs(value) > 2**53 - 1:
        return False
    rounded = round(value)
    return value == rounded or (rounded != 0 and abs(value - rounded) < 1e-9 * abs(rounded))


def _list_map_keys(
    validator: jsonschema.protocols.Validator, keys: list[str], instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """Items of a list-type map are unique by their keys; each repeated key is reported once, where it repeats."""
    if not isinstance(instance, list):
        return
    seen: dict[str, int] = {}
    for index, item in enumerate(instance):
        key = {name: item[name] for name in keys if name in item} if isinstance(item, dict) else {}
        text = json.dumps(key, sort_keys=True)
        seen[text] = seen.get(text, 0) + 1
        if seen[text] == 2:
            yield jsonschema.ValidationError("duplicate key", validator_value=key, path=(index,))


_Validator = jsonschema.validators.extend(
    jsonschema.Draft4Validator, {"pattern": _pattern, "multipleOf": _multiple_of, _MAP_KEYS: _list_map_keys}
)


def make_validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """Translate and compile a CRD version's ``openAPIV3Schema``; refuse unusable schemas."""
    translated = translate(schema, root=True)
    try:
        jsonschema.Draft4Validator.check_schema(translated)
    except jsonschema.SchemaError as exc:
        raise BadSchemaError(exc.message) from exc
    validator: jsonschema.protocols.Validator = _Validator(translated)
    return validator


def schema_causes(validator: jsonschema.protocols.Validator, obj: dict[str, Any]) -> list[Cause]:
    """Validate and word every failure as the real server does; duplicates are folded."""
    causes: list[Cause] = []
    seen: set[tuple[str, str]] = set()
    for error in validator.iter_errors(obj):
        for cause in _causes_of(error):
            if (cause.field, cause.message) not in seen:
                seen.add((cause.field, cause.message))
                causes.append(cause)
    return causes


def _causes_of(error: jsonschema.ValidationError) -> Iterator[Cause]:
    parts = list(error.absolute_path)
    path = field_path(parts)
    where = f"{path} in body" if path else "body"
    kind, limit, value = error.validator, error.validator_value, error.instance
    if kind == "required":
        for name in limit:
            if isinstance(value, dict) and name not in value:
                yield Cause(field_path([*parts, name]), "Required value", "FieldValueRequired")
        return
    if kind == "enum":
        supported = ", ".join(render_value(option) for option in limit if option is not None)
        yield Cause(
            path, f"Unsupported value: {render_value(value)}: supported values: {supported}", "FieldValueNotSupported"
        )
        return
    if kind == "uniqueItems" and isinstance(value, list):
        duplicates = [index for index, item in enumerate(value) if item in value[:index]]
        for index in duplicates[:1]:
            yield Cause(
                field_path([*parts, index]), f"Duplicate value: {render_value(value[index])}", "FieldValueDuplicate"
            )
        return
    if kind == "type":
        expected = ",".join(limit) if isinstance(limit, list) else limit
        actual = json.dumps(json_type(value))
        yield Cause(
            path, f"Invalid value: {actual}: {where} must be of type {expected}: {actual}", "FieldValueTypeInvalid"
        )
        return
    if kind == _MAP_KEYS:
        yield Cause(path, f"Duplicate value: {go_map(limit)}", "FieldValueDuplicate")
        return
    if kind == _POSITIVE:
        yield Cause(
            path,
            f"Invalid value: {render_value(limit)}: factor MultipleOf declared for {path} must be positive: "
            f"{render_value(limit)}",
        )
        return
    counted = kind in ("minItems", "maxItems", "minProperties", "maxProperties") and isinstance(value, list | dict)
    shown = render_value(len(value) if counted else value)
    yield Cause(path, f"Invalid value: {shown}: {where} {_constraint(error)}")


def _constraint(error: jsonschema.ValidationError) -> str:
    """The tail of a kube-openapi message for bounded keywords."""
    kind, limit, schema = error.validator, error.validator_value, error.schema
    exclusive = isinstance(schema, dict) and schema.get(f"exclusive{str(kind).capitalize()}") is True
    texts = {
        "minimum": f"should be greater than {'' if exclusive else 'or equal to '}{limit}",
        "maximum": f"should be less than {'' if exclusive else 'or equal to '}{limit}",
        "minLength": f"should be at least {limit} chars long",
        "maxLength": f"should be at most {limit} chars long",
        "pattern": f"should match '{limit}'",
        "minItems": f"should have at least {limit} items",
        "maxItems": f"should have at most {limit} items",
        "minProperties": f"should have at least {limit} properties",
        "maxProperties": f"should have at most {limit} properties",
        "multipleOf": f"should be a multiple of {render_value(limit)}",
    }
    return texts.get(str(kind), f"failed {kind} validation: {error.message}")
