"""Every construct of every generated CRD schema is one whose real-apiserver semantics the emulator models.

Our tests trust the emulated API server (:mod:`~upskill_sandbox.kube_schema`,
:mod:`~upskill_sandbox.kube_cel`) in place of a kube-apiserver. A schema keyword it does not
model, or models only in part, passes here and behaves otherwise on a real server: ``multipleOf: 0.5``
passed every test and refused every whole number on a real one. This allow-list names each modelled
construct and the range in which it is modelled; anything else fails until the emulator models it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import celpy
import pytest
from celpy.adapter import json_to_cel

from upskill_operator.generate import crds
from upskill_operator.models import KINDS

TYPES = {"object", "array", "string", "integer", "number", "boolean"}
PLAIN = {"description", "required", "enum", "default", "minLength", "maxLength", "minItems", "maxItems"}
PLAIN |= {"minProperties", "maxProperties", "nullable", "x-kubernetes-preserve-unknown-fields"}
PLAIN |= {"x-kubernetes-int-or-string", "x-kubernetes-list-map-keys"}
WHOLE = {"minimum", "maximum", "multipleOf"}  # kube-openapi compares an integer value with int64(bound)
LIST_TYPES = {"set", "map", "atomic"}
RULE_FIELDS = {"rule", "message", "messageExpression", "fieldPath", "reason"}  # optionalOldSelf: not modelled
REASONS = {"FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"}
CEL_SAMPLES = {
    "has": "has(self.s)",
    "size": "size(self.s) == 2",
    "double": "double(self.i) == 4.0",
    "int": "int(self.d) == 4",
    "string": "string(self.i) == '4'",
    "all": "self.l.all(x, x > 0)",
    "exists": "self.l.exists(x, x == 2)",
    "exists_one": "self.l.exists_one(x, x == 2)",
    "map": "self.l.map(x, x * 2) == [2, 4]",
    "filter": "self.l.filter(x, x > 1) == [2]",
    "matches": "self.s.matches('^a[b]$')",
    "startsWith": "self.s.startsWith('a')",
    "endsWith": "self.s.endsWith('b')",
    "contains": "self.s.contains('ab')",
}
"""The CEL functions the emulator evaluates, each with a rule proving it (celpy lacks Kubernetes' libraries)."""


def _functions(rule: str) -> set[str]:
    code = re.sub(r"'(\\.|[^'\\])*'|\"(\\.|[^\"\\])*\"", "''", rule)  # string literals hold no calls
    return set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", code))


def _rule_problems(rules: list[dict[str, Any]], where: str) -> Iterator[str]:
    for index, rule in enumerate(rules):
        at = f"{where}[{index}]"
        yield from (f"{at}.{field}: not modelled" for field in sorted(set(rule) - RULE_FIELDS))
        if rule.get("reason", "FieldValueInvalid") not in REASONS:
            yield f"{at}.reason: {rule['reason']} not modelled"
        for text in (rule.get("rule", ""), rule.get("messageExpression", "")):
            yield from (
                f"{at}: CEL function {name}() not modelled" for name in sorted(_functions(text) - CEL_SAMPLES.keys())
            )


def problems(schema: dict[str, Any], path: str = "openAPIV3Schema") -> Iterator[str]:
    """Every construct of ``schema`` whose real-server semantics the emulator does not model."""
    for key, value in schema.items():
        where = f"{path}.{key}"
        if key == "type":
            yield from ([] if value in TYPES else [f"{where}: {value!r} not modelled"])
        elif key == "properties":
            for name, sub in value.items():
                yield from problems(sub, f"{path}.properties[{name}]")
        elif key in ("items", "additionalProperties"):
            yield from problems(value, where) if isinstance(value, dict) else [f"{where}: only a schema is modelled"]
        elif key in WHOLE:
            if not (isinstance(value, int | float) and float(value).is_integer()) or (
                key == "multipleOf" and value <= 0
            ):
                yield f"{where}: {value!r}: a real server checks an integer value against int64({value!r})"
        elif key == "pattern":
            yield from _pattern_problems(value, where)
        elif key == "x-kubernetes-list-type":
            if value not in LIST_TYPES or (value == "map" and not schema.get("x-kubernetes-list-map-keys")):
                yield f"{where}: {value!r} not modelled"
        elif key == "x-kubernetes-validations":
            yield from _rule_problems(value, where)
        elif key not in PLAIN:
            yield f"{where}: not modelled by the emulator"


def _pattern_problems(pattern: str, where: str) -> Iterator[str]:
    re2 = pytest.importorskip("re2", reason="google-re2 checks patterns as the API server's RE2 reads them")
    try:
        re2.compile(pattern)
    except re2.error as exc:
        yield f"{where}: {pattern!r} is not RE2 (a real server refuses the CRD): {exc}"


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.kind)
def test_every_schema_construct_is_modelled_by_the_emulator(kind: Any) -> None:
    for version in crds.build(kind)["spec"]["versions"]:
        assert list(problems(version["schema"]["openAPIV3Schema"])) == []


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"type": "number", "multipleOf": 0.5}, "multipleOf: 0.5: a real server checks an integer value"),
        ({"type": "number", "minimum": 0.5}, "minimum: 0.5: a real server checks an integer value"),
        ({"type": "string", "format": "date-time"}, "format: not modelled"),
        ({"type": "string", "pattern": "^a(?=b)"}, "is not RE2"),
        ({"type": "object", "oneOf": [{"required": ["a"]}]}, "oneOf: not modelled"),
        ({"type": "array", "x-kubernetes-list-type": "map"}, "x-kubernetes-list-type: 'map' not modelled"),
        ({"type": "string", "x-kubernetes-validations": [{"rule": "quantity(self) > 0"}]}, "quantity() not modelled"),
        (
            {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "optionalOldSelf": True}]},
            "optionalOldSelf: not modelled",
        ),
    ],
)
def test_the_allow_list_refuses_what_is_not_modelled(schema: dict[str, Any], problem: str) -> None:
    found = list(problems({"type": "object", "properties": {"x": schema}}))
    assert any(problem in line for line in found), found


@pytest.mark.parametrize("name", sorted(CEL_SAMPLES))
def test_each_allowed_cel_function_evaluates_in_the_emulator(name: str) -> None:
    environment = celpy.Environment()
    program = environment.program(environment.compile(CEL_SAMPLES[name]))
    assert name in _functions(CEL_SAMPLES[name])
    assert program.evaluate(
        {"self": json_to_cel({"s": "ab", "i": 4, "d": 4.5, "l": [1, 2]})}
    ) == celpy.celtypes.BoolType(True)
