"""The emulated API server matches ``pattern`` as Go's RE2 does: ``$`` is the end of the text."""

from __future__ import annotations

import pytest

from upskill_sandbox.kube_schema import go_pattern, make_validator, schema_causes

SCHEMA = {
    "type": "object",
    "properties": {"spec": {"type": "object", "properties": {"name": {"type": "string", "pattern": "^[a-z$]+$"}}}},
}


@pytest.mark.parametrize(
    ("value", "refused"),
    [("orders", False), ("or$ders", False), ("orders\n", True), ("orders\nx", True), ("Orders", True)],
)
def test_dollar_ends_the_text(value: str, refused: bool) -> None:
    causes = schema_causes(make_validator(SCHEMA), {"spec": {"name": value}})
    assert bool(causes) is refused
    if refused:
        assert causes[0].field == "spec.name"
        assert "should match '^[a-z$]+$'" in causes[0].message  # the pattern as written, not as translated


def test_only_unescaped_dollars_outside_classes_are_translated() -> None:
    assert go_pattern(r"^a\$b[$]c$") == r"^a\$b[$]c\Z"
    assert go_pattern(r"^(x|y)$|^z$") == r"^(x|y)\Z|^z\Z"
