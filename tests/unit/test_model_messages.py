"""The wording of validate_spec's lines: field and rule named, what was given shown safely, strictness."""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.models.validation import validate_spec

TABLE = {"keys": {"partition": {"name": "pk", "type": "S"}}}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"deletionProtection": "false"}, "spec.deletionProtection: must be true or false (got string)"),
        ({"deletionProtection": 1}, "spec.deletionProtection: must be true or false (got integer)"),
        ({"pointInTimeRecovery": {"recoveryPeriodDays": True}}, "must be an integer (got boolean)"),
        ({"pointInTimeRecovery": {"recoveryPeriodDays": 7.0}}, "must be an integer (got number)"),
        ({"globalIndexes": "byUser"}, "spec.globalIndexes: must be a list (got string)"),
        ({"connection": "orders"}, "spec.connection: must be an object (got string)"),
        ({"stream": "ALL"}, "spec.stream: must be one of "),
        ({"replicas": 3}, "spec.replicas: unknown field"),
    ],
)
def test_types_are_checked_strictly_and_named(changes: dict[str, Any], expected: str) -> None:
    (line,) = validate_spec("UpskillTable", {**TABLE, **changes})
    assert expected in line


@pytest.mark.parametrize(
    "value",
    ["a\nb", "x\u202ey", "$(rm -rf /)" * 10],
)
def test_enum_errors_never_echo_long_or_unprintable_text(value: str) -> None:
    (line,) = validate_spec("UpskillTable", {**TABLE, "stream": value})
    assert line.endswith("(got string)")
    assert "\n" not in line
    assert "\u202e" not in line


def test_a_map_key_in_a_path_is_quoted_and_escaped() -> None:
    (line,) = validate_spec("UpskillTable", {**TABLE, "tags": {"team\nERROR forged": 5}})
    assert line == "spec.tags['team\\nERROR forged']: must be a string (got integer)"


def test_numbers_are_shown_as_written() -> None:
    spec = {**TABLE, "pointInTimeRecovery": {"recoveryPeriodDays": 40}}
    assert validate_spec("UpskillTable", spec) == [
        "spec.pointInTimeRecovery.recoveryPeriodDays: must be between 1 and 35 (got 40)"
    ]


def test_list_lengths_are_counted() -> None:
    spec = {
        **TABLE,
        "globalIndexes": [{"name": f"index{i}", "partition": {"name": "pk", "type": "S"}} for i in range(21)],
    }
    assert validate_spec("UpskillTable", spec) == ["spec.globalIndexes: must have at most 20 items (got 21)"]
