"""Constraints with house-style messages, shared by the kinds' models.

Each constraint does two things at once: it validates with a message that names the rule and
the offending value (``must be a multiple of 0.5 (got 0.75)``), and it writes the same rule
into the JSON schema (``minimum``/``maximum``, a CEL rule for steps, ``pattern``/``maxLength``), so
the generated CRD enforces it at admission as well.

:func:`fail` reports a cross-field problem at the field it is about rather than at the object
holding the validator: ``spec.capacity.serverless.minACU: ...`` rather than ``spec: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError, core_schema

__all__ = [
    "OBJECT_NAME",
    "Between",
    "Cel",
    "LocalName",
    "Matches",
    "Problem",
    "Unique",
    "cel_rules",
    "fail",
    "num",
    "raise_all",
    "running",
    "same_namespace",
]

Problem = tuple[tuple[str | int, ...], str]
"""A location relative to the validated object (wire names) and a message."""


def num(value: float) -> str:
    """A number as people write it: ``4`` rather than ``4.0``, ``0.75`` and ``100000`` as they are."""
    return str(int(value)) if float(value).is_integer() else str(value)


def fail(*problems: Problem) -> NoReturn:
    """Raise every problem at its own location, relative to the object being validated.

    pydantic prefixes the locations of a ``ValidationError`` raised inside a validator with the
    location of that validator's object, so the final path names the offending field.
    """
    raise ValidationError.from_exception_data(
        "spec",
        [InitErrorDetails(type=PydanticCustomError("rule", message), loc=loc, input=None) for loc, message in problems],
    )


def running(info: ValidationInfo, *path: str) -> Any:
    """A value of the stored object's status (``validate_spec(status=...)``), or None.

    AWS stops offering versions and classes that existing objects keep running; the offer checks
    accept what the status shows running, so a retired minor never turns a working resource Terminal.
    """
    current: Any = (info.context or {}).get("status")
    for part in path:
        current = current.get(part) if isinstance(current, dict) else None
    return current


def raise_all(problems: Sequence[Problem]) -> None:
    """:func:`fail` when there is anything to report."""
    if problems:
        fail(*problems)


@dataclass(frozen=True)
class Between:
    """A closed numeric range, optionally in steps: ``Annotated[float, Between(0, 256, step=0.5)]``."""

    low: float
    high: float
    step: float | None = None

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        out.update(minimum=self.low, maximum=self.high)
        if self.step is not None:
            out["x-kubernetes-validations"] = [*out.get("x-kubernetes-validations", []), self.step_rule().schema()]
        return out

    def step_rule(self) -> Cel:
        """The step as a CEL rule: a real API server checks an integer value against ``int64(multipleOf)``.

        With ``multipleOf: 0.5`` that is 0, and every whole number is refused ("factor MultipleOf ...
        must be positive"), so the step is never written as ``multipleOf``. The bounds guard keeps
        ``int()`` in range; out-of-range values are refused by ``minimum``/``maximum``.
        """
        value, step = "double(self)", float(self.step or 1)
        rule = (
            f"{value} < {float(self.low)!r} || {value} > {float(self.high)!r} || "
            f"double(int({value} / {step!r})) == {value} / {step!r}"
        )
        return Cel(rule, f"must be a multiple of {num(step)}")

    def check(self, value: float) -> float:
        if not self.low <= value <= self.high:
            raise ValueError(f"must be between {num(self.low)} and {num(self.high)} (got {num(value)})")
        if self.step is not None and not (value / self.step).is_integer():
            raise ValueError(f"{self.step_rule().message} (got {num(value)})")
        return value


@dataclass(frozen=True)
class Matches:
    """A whole-string pattern (RE2-compatible: no look-arounds) with a message people understand."""

    pattern: str
    message: str
    max_length: int

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        out.update(pattern=self.pattern, maxLength=self.max_length)
        return out

    def check(self, value: str) -> str:
        if len(value) > self.max_length:
            raise ValueError(f"must be at most {self.max_length} characters (got {len(value)})")
        if not re.fullmatch(self.pattern, value):
            raise ValueError(self.message)
        return value


OBJECT_NAME = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
"""A Kubernetes object name (RFC 1123 subdomain)."""


def same_namespace(referent: str) -> str:
    """The message for a reference that leaves the resource's namespace."""
    return f"cross-namespace references are not allowed: name {referent} in this namespace"


_OBJECT_NAME_RULE = Matches(
    OBJECT_NAME, "must be a Kubernetes object name: a-z 0-9 - . (starting and ending with a letter or digit)", 253
)


@dataclass(frozen=True)
class LocalName:
    """The name of an object in the resource's own namespace: ``other-ns/name`` is refused as such.

    ``LocalName("a Secret")``: the CRD gets the object-name pattern; the message for a ``/`` says
    why it is refused rather than only that the name does not match.
    """

    referent: str = "an object"

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return _OBJECT_NAME_RULE.__get_pydantic_json_schema__(schema, handler)

    def check(self, value: str) -> str:
        if "/" in value:
            raise ValueError(same_namespace(self.referent))
        return _OBJECT_NAME_RULE.check(value)


@dataclass(frozen=True)
class Unique:
    """A list of distinct scalars (``x-kubernetes-list-type: set``, which the API server enforces too)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        out["x-kubernetes-list-type"] = "set"
        return out

    def check(self, values: list[Any]) -> list[Any]:
        repeated = sorted({str(v) for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"must not repeat items (repeated: {', '.join(repeated)})")
        return values


@dataclass(frozen=True)
class Cel:
    """A CEL rule for the CRD (``x-kubernetes-validations``) whose message the pydantic validator reuses.

    ``field_path`` (``.proxy.readOnlyEndpoint``) makes the API server report the error at that field,
    as :func:`fail` does with :attr:`loc`.
    """

    rule: str
    message: str
    field_path: str = ""

    @property
    def loc(self) -> tuple[str, ...]:
        return tuple(self.field_path.split(".")[1:]) if self.field_path else ()

    def schema(self) -> dict[str, str]:
        out = {"rule": self.rule, "message": self.message}
        if self.field_path:
            out["fieldPath"] = self.field_path
        return out


def cel_rules(*rules: Cel) -> dict[str, Any]:
    """``json_schema_extra`` carrying CEL rules into the generated CRD."""
    return {"x-kubernetes-validations": [rule.schema() for rule in rules]}
