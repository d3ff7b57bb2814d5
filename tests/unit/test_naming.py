"""Deterministic AWS names: short names as-is, long ones truncated with a stable hash, bad explicit names refused."""

from __future__ import annotations

import re

import pytest

from upskill_operator.adapters.shared.naming import HASH_LENGTH, aws_name, check_name, pinned
from upskill_operator.errors import TerminalError


def test_short_name_is_prefix_namespace_name() -> None:
    assert aws_name("upskill", "team", "orders", max_length=255) == "upskill-team-orders"


def test_long_name_is_truncated_with_a_stable_hash() -> None:
    name = "n" * 80
    first = aws_name("upskill", "team", name, max_length=40)
    assert len(first) == 40
    assert re.fullmatch(rf"upskill-team-n+-[0-9a-f]{{{HASH_LENGTH}}}", first)
    assert aws_name("upskill", "team", name, max_length=40) == first  # deterministic across calls and restarts


def test_long_names_differing_only_past_the_cut_stay_distinct() -> None:
    a = aws_name("upskill", "team", "x" * 60 + "a", max_length=40)
    b = aws_name("upskill", "team", "x" * 60 + "b", max_length=40)
    assert a != b
    assert a[:31] == b[:31]


def test_truncation_never_leaves_a_double_separator() -> None:
    name = aws_name("upskill", "team", "abcdefg-hijklmnopqrstuvwxyz", max_length=30)  # the cut lands on "-"
    assert "--" not in name
    assert ".-" not in name
    assert len(name) <= 30


def test_exactly_max_length_is_kept_whole() -> None:
    name = aws_name("p", "ns", "x" * 35, max_length=40)
    assert name == "p-ns-" + "x" * 35


def test_explicit_name_is_used_as_given() -> None:
    assert aws_name("upskill", "team", "orders", max_length=255, explicit="Legacy_Orders.v2") == "Legacy_Orders.v2"


@pytest.mark.parametrize(
    ("explicit", "why"),
    [
        pytest.param("ab", "does not match", id="too-short-for-dynamodb"),
        pytest.param("has space", "does not match", id="bad-character"),
        pytest.param("x" * 256, "256 characters; AWS allows 255", id="too-long"),
    ],
)
def test_invalid_explicit_name_is_terminal(explicit: str, why: str) -> None:
    with pytest.raises(TerminalError) as caught:
        aws_name("upskill", "team", "orders", max_length=255, explicit=explicit, field="spec.tableName")
    assert caught.value.reason == "InvalidName"
    assert str(caught.value).startswith("spec.tableName: ")
    assert why in str(caught.value)


def test_derived_name_breaking_the_rules_is_terminal() -> None:
    with pytest.raises(TerminalError, match="does not match"):
        aws_name("bad prefix", "team", "orders", max_length=255)


def test_custom_alphabet_is_enforced() -> None:
    rds = re.compile(r"[a-z][a-z0-9-]{0,62}")
    assert check_name("upskill-db", max_length=63, allowed=rds) == "upskill-db"
    with pytest.raises(TerminalError):
        check_name("9db", max_length=63, allowed=rds)


def test_max_length_must_leave_room_for_the_hash() -> None:
    with pytest.raises(ValueError, match="no room"):
        aws_name("p", "n", "x", max_length=HASH_LENGTH + 1)


@pytest.mark.parametrize("recorded", [None, "", "orders"])
def test_pinned_keeps_a_name_status_has_not_recorded_otherwise(recorded: str | None) -> None:
    assert pinned("spec.tableName", "orders", recorded) == "orders"


def test_pinned_refuses_a_new_name_once_status_records_one() -> None:
    with pytest.raises(TerminalError) as caught:
        pinned("spec.tableName", "orders-v2", "orders")
    assert caught.value.reason == "ImmutableField"
    assert str(caught.value) == "spec.tableName: immutable after creation (AWS has orders, spec asks orders-v2)"
