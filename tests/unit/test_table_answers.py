"""What an UpdateTimeToLive answer stands for, parsed as DescribeTimeToLive would be."""

from __future__ import annotations

from upskill_operator.adapters.table.reads import settled_ttl, ttl_answer
from upskill_operator.adapters.table.state import observed_table

TABLE = {"TableName": "t", "TableArn": "arn:t", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}


def test_an_enabling_answer_is_the_attribute_enabled_and_settled() -> None:
    ttl = ttl_answer({"Enabled": True, "AttributeName": "expiresAt"})
    seen = observed_table(TABLE, ttl, {}, {})
    assert (seen.ttl_attribute, seen.ttl_status) == ("expiresAt", "ENABLED")
    assert settled_ttl(ttl) == ttl  # remembered: the confirming observe reads nothing


def test_a_disabling_answer_is_no_ttl() -> None:
    seen = observed_table(TABLE, ttl_answer({"Enabled": False, "AttributeName": "expiresAt"}), {}, {})
    assert (seen.ttl_attribute, seen.ttl_status) == (None, "DISABLED")
