"""The one semantic check shared by the admission webhook and the operator.

:func:`validate_spec` runs a kind's pydantic model (every rule lives there, once) in strict mode
and, on updates, the immutability rules the models declare with :func:`~.common.immutable` (the same
messages the CRD's CEL rules give) plus any ``update_errors`` the spec model defines.

Strict mode refuses what the CRD's schema refuses: ``"false"`` for a boolean, ``"4"`` for a number.
pydantic's default (lax) mode would quietly read ``iamAuthentication: "false"`` as false and
``retentionDays: true`` as 1 where no schema stands in front (no CRD validation, or a webhook
reached directly), so the operator would act on a value nobody wrote.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from pydantic import ValidationError

from upskill_operator.models import kind_info
from upskill_operator.models.common import Model
from upskill_operator.models.messages import format_errors

__all__ = ["immutable_fields", "validate_spec"]

_MISSING = object()


@runtime_checkable
class _HasUpdateRules(Protocol):
    def update_errors(self, old: Any) -> list[str]: ...


def validate_spec(kind: str, spec: Any, old_spec: Any = None, status: Mapping[str, Any] | None = None) -> list[str]:
    """``spec.<path>: <message>`` lines for everything wrong with ``spec``; an empty list when valid.

    ``kind`` is a kind name (or plural or short name). With ``old_spec`` (an update), changes to
    immutable fields are reported too, comparing values after defaults as the API server does.
    ``status`` is the stored object's status: what already runs in AWS is not refused for no longer
    being offered (see :func:`~.rules.running`).
    """
    model = kind_info(kind).spec
    try:
        new: Model | None = model.model_validate(spec, strict=True, context={"status": dict(status or {})})
        lines: list[str] = []
    except ValidationError as exc:
        new, lines = None, format_errors(exc)
    if old_spec is None:
        return lines
    for path, message in immutable_fields(model):
        if _value(model, spec, path) != _value(model, old_spec, path):
            lines.append(message)
    old = _parse(model, old_spec)
    if isinstance(new, _HasUpdateRules) and old is not None:
        lines += [f"spec.{line}" for line in new.update_errors(old)]
    return lines


@functools.cache
def immutable_fields(model: type[Model]) -> tuple[tuple[tuple[str, ...], str], ...]:
    """(wire path, message) of every field marked :func:`~.common.immutable`, nested models included."""
    found: list[tuple[tuple[str, ...], str]] = []
    for name, info in model.model_fields.items():
        wire = info.alias or name
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        rules = typing.cast(list[dict[str, str]], extra.get("x-kubernetes-validations", []))
        found += [((wire,), rule["message"]) for rule in rules if rule["rule"] == "self == oldSelf"]
        for sub in _models_in(info.annotation):
            found += [((wire, *path), message) for path, message in immutable_fields(sub)]
    return tuple(found)


def _models_in(annotation: Any) -> list[type[Model]]:
    """Model classes of a field's type, seen through Optional and Annotated (not through lists)."""
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def _parse(model: type[Model], data: Any) -> Model | None:
    try:
        return model.model_validate(data, strict=True)
    except ValidationError:
        return None


def _value(model: type[Model], data: Any, path: tuple[str, ...]) -> Any:
    """The value at a wire path, with the model's defaults where the data leaves a field out.

    Works on invalid data too, so an immutable field is reported even when other fields are wrong.
    """
    current: Any = data
    for part in path:
        field = next((f for name, f in model.model_fields.items() if (f.alias or name) == part), None)
        if isinstance(current, dict) and current.get(part) is not None:
            current = current[part]
        elif field is not None and not field.is_required():
            default = field.get_default(call_default_factory=True)
            current = default.wire() if isinstance(default, Model) else default
        else:
            return _MISSING
        if field is not None:
            model = next(iter(_models_in(field.annotation)), Model)
    return _MISSING if current is None else _without_nulls(current)


def _without_nulls(value: Any) -> Any:
    """``{"sort": null}`` equals ``{}``, as for the API server, which drops nulls before CEL runs."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    return value
