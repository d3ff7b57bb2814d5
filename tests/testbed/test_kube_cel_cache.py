"""CEL rules compiled once and their remembered outcomes give the verdicts a fresh evaluation gives."""

from __future__ import annotations

from typing import Any

import pytest

from upskill_sandbox import kube_cel

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "x-kubernetes-validations": [
                {"rule": "has(self.name) == has(oldSelf.name)", "message": "name: immutable", "fieldPath": ".name"},
                {"rule": "self.min <= self.max", "messageExpression": "'min ' + string(self.min) + ' over max'"},
            ],
            "properties": {
                "name": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]},
                "min": {"type": "integer"},
                "max": {"type": "integer"},
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "x-kubernetes-validations": [
                            {"rule": "self.port >= oldSelf.port", "reason": "FieldValueForbidden"},
                            {"rule": "self.port > 0"},
                        ],
                    },
                },
                "tags": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "string",
                        "x-kubernetes-validations": [{"rule": "size(self) < 4"}],
                    },
                },
                "any": {"x-kubernetes-validations": [{"rule": "self.x == 1"}, {"rule": "self.map(k, k)[0] == 'a'"}]},
            },
        },
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


def _spec(**fields: Any) -> dict[str, Any]:
    return {"spec": {"min": 1, "max": 2, **fields}, "status": {"n": 1}}


CASES: list[tuple[dict[str, Any], dict[str, Any] | None]] = [
    (_spec(name="a"), None),  # a create: transition rules do not run
    (_spec(name="a"), _spec(name="a")),
    (_spec(name="b"), _spec(name="a")),  # changed: self == oldSelf fails
    (_spec(), _spec(name="a")),  # removed
    (_spec(name="a"), _spec()),  # added
    ({"spec": {"min": 3, "max": 2}}, None),  # messageExpression
    ({"spec": {"min": 3}}, None),  # no such key: an evaluation error
    (_spec(ports=[{"name": "p", "port": 5}, {"name": "q", "port": 0}]), _spec(ports=[{"name": "p", "port": 6}])),
    (_spec(ports=[{"name": "q", "port": 7}]), _spec(ports=[{"name": "p", "port": 6}])),  # no old item to correlate
    (_spec(tags={"a": "xyz", "b": "long"}), None),
    (_spec(any={"x": 1}), None),
    (_spec(any={"x": 1.0}), None),  # 1, 1.0 and True are different values to CEL
    (_spec(any={"x": True}), None),
    (_spec(any={"a": 0, "x": 1}), None),
    (_spec(any={"x": 1, "a": 0}), None),  # key order shows in map()
    (_spec(any={1: 0, "x": 1}), None),  # an int key is not the string "1"
    (_spec(any={"1": 0, "x": 1}), None),
]


def _verdicts(rules: kube_cel.Rules) -> list[list[tuple[str, str, str]]]:
    return [
        [(c.field, c.message, c.reason) for c in rules.causes(new, old, has_old=old is not None)] for new, old in CASES
    ]


def test_remembered_verdicts_are_the_fresh_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = kube_cel.compile_rules(SCHEMA, "openAPIV3Schema")
    assert rules is not None
    fresh = []
    for new, old in CASES:  # each case evaluated with nothing remembered
        monkeypatch.setattr(kube_cel, "_verdicts", {})
        fresh.append([(c.field, c.message, c.reason) for c in rules.causes(new, old, has_old=old is not None)])
    monkeypatch.setattr(kube_cel, "_verdicts", {})
    assert _verdicts(rules) == fresh  # one table for all: no case answers for another
    assert any(fresh)
    assert not all(fresh)

    def evaluated(*_: Any) -> Any:
        raise AssertionError("a remembered outcome was evaluated again")

    monkeypatch.setattr(kube_cel, "_verdict", evaluated)
    assert _verdicts(rules) == fresh  # and the second pass is all remembered
    assert kube_cel.rule_causes(SCHEMA, *CASES[2], has_old=True) == rules.causes(*CASES[2], has_old=True)


def test_transition_rules_run_only_on_updates() -> None:
    rules = kube_cel.compile_rules(SCHEMA, "openAPIV3Schema")
    assert rules is not None
    new, old = _spec(name="b"), _spec(name="a")
    assert rules.causes(new, old, has_old=False) == []
    assert [c.field for c in rules.causes(new, old, has_old=True)] == ["spec.name"]


def test_schemas_without_rules_compile_to_nothing() -> None:
    assert kube_cel.compile_rules({"type": "object", "properties": {"a": {"type": "string"}}}, "s") is None
    rules = kube_cel.compile_rules(SCHEMA, "s")
    assert rules is not None
    assert rules.properties["status"] is None


def test_the_table_of_outcomes_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube_cel, "_verdicts", {})
    monkeypatch.setattr(kube_cel, "_MAX_VERDICTS", 3)
    rules = kube_cel.compile_rules({"type": "integer", "x-kubernetes-validations": [{"rule": "self > 1"}]}, "s")
    assert rules is not None
    assert [len(rules.causes(i, None, has_old=False)) for i in range(6)] == [1, 1, 0, 0, 0, 0]
    assert list(kube_cel._verdicts) == [("self > 1", repr(i), None) for i in (3, 4, 5)]
