"""The emulated API server refuses a list-type map whose items repeat a key, worded as the real server words it."""

from __future__ import annotations

from typing import Any

import pytest

from upskill_sandbox.kube_schema import make_validator, schema_causes

ITEM = {"type": "object", "properties": {"key": {"type": "string"}, "port": {"type": "integer"}}}


def _causes(keys: list[str], items: list[Any]) -> list[tuple[str, str]]:
    listed = {"type": "array", "items": ITEM, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": keys}
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {"keys": listed}}}}
    return [(c.field, c.message) for c in schema_causes(make_validator(schema), {"spec": {"keys": items}})]


@pytest.mark.parametrize(
    ("keys", "items", "expected"),
    [
        (["key"], [{"key": "A"}, {"key": "B"}], []),
        (
            ["key"],
            [{"key": "A"}, {"key": "A"}],
            [("spec.keys[1]", 'Duplicate value: map[string]interface {}{"key":"A"}')],
        ),
        (
            ["key"],
            [{"key": "A"}, {"key": "A"}, {"key": "A"}, {"key": "B"}, {"key": "B"}],
            [
                ("spec.keys[1]", 'Duplicate value: map[string]interface {}{"key":"A"}'),
                ("spec.keys[4]", 'Duplicate value: map[string]interface {}{"key":"B"}'),
            ],
        ),
        (["key", "port"], [{"key": "A", "port": 1}, {"key": "A", "port": 2}], []),
        (
            ["key", "port"],
            [{"key": "A", "port": 1}, {"port": 1, "key": "A"}],
            [("spec.keys[1]", 'Duplicate value: map[string]interface {}{"key":"A", "port":1}')],
        ),
        (["key"], [{}, {}], [("spec.keys[1]", "Duplicate value: map[string]interface {}{}")]),
    ],
)
def test_items_are_unique_by_their_keys(keys: list[str], items: list[Any], expected: list[tuple[str, str]]) -> None:
    assert _causes(keys, items) == expected
