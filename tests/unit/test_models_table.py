"""UpskillTable: the sketch's example, refusals with their exact messages, tags and immutability."""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.models.common import check_tags
from upskill_operator.models.table import TableSpec
from upskill_operator.models.validation import validate_spec

from unit.crd_support import assert_refused, example, mutated

KIND = "UpskillTable"
TABLE = example(KIND, "notifications")["spec"]
MINIMAL = {"keys": {"partition": {"name": "pk", "type": "S"}}}


def test_defaults_keep_the_data() -> None:
    spec = TableSpec.model_validate(MINIMAL)
    assert spec.deletion_policy == "Retain"
    assert spec.deletion_protection is True
    assert spec.point_in_time_recovery.enabled is True
    assert spec.point_in_time_recovery.recovery_period_days == 35
    assert TableSpec.model_validate(TABLE).wire()["stream"] == "NEW_AND_OLD_IMAGES"


TAG_ALPHABET = "letters, digits, spaces and _ . : / = + -"  # DynamoDB's tag alphabet has no @
GSI = {"name": "byUser", "partition": {"name": "pk", "type": "N"}}
INVALID: list[Any] = [
    (
        "key-type",
        {"keys.partition.type": "X"},
        ["spec.keys.partition.type: must be one of 'S', 'N' or 'B' (got 'X')"],
        "schema",
    ),
    (
        "same-keys",
        {"keys.sort.name": "pk"},
        ["spec.keys.sort.name: must differ from partition.name (both are 'pk')"],
        "webhook",
    ),
    (
        "index-name",
        {"globalIndexes[0].name": "ab"},
        ["spec.globalIndexes[0].name: must be 3-255 characters of a-z A-Z 0-9 _ . -"],
        "schema",
    ),
    (
        "type-conflict",
        {"globalIndexes": [GSI]},
        [
            "spec.globalIndexes[0].partition.type: attribute 'pk' is type S in keys.partition; "
            "an attribute has one type (got N)"
        ],
        "webhook",
    ),
    (
        "include-without-attributes",
        {"globalIndexes[0].projection": "INCLUDE"},
        ["spec.globalIndexes[0].nonKeyAttributes: required with projection INCLUDE"],
        "webhook",
    ),
    (
        "pitr-days",
        {"pointInTimeRecovery.recoveryPeriodDays": 36},
        ["spec.pointInTimeRecovery.recoveryPeriodDays: must be between 1 and 35 (got 36)"],
        "schema",
    ),
    (
        "stream",
        {"stream": "ALL"},
        ["spec.stream: must be one of 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES' or 'KEYS_ONLY' (got 'ALL')"],
        "schema",
    ),
    (
        "table-name-long",
        {"tableName": "t" * 256},
        ["spec.tableName: must be at most 255 characters (got 256)"],
        "schema",
    ),
    (
        "table-name-unicode",
        {"tableName": "tablé"},
        ["spec.tableName: must be 3-255 characters of a-z A-Z 0-9 _ . -"],
        "schema",
    ),
    (
        "reserved-tag",
        {"tags": {"upskill.io/uid": "x"}},
        ["spec.tags: tag key 'upskill.io/uid' uses a reserved prefix (aws: or upskill.io/)"],
        "webhook",
    ),
    (
        "tag-newline",
        {"tags": {"team": "a\nb"}},
        [f"spec.tags: tag 'team': the value has a character AWS does not allow in tags ('\\n'); use {TAG_ALPHABET}"],
        "webhook",
    ),
    (
        "tag-injection",
        {"tags": {"team": "x'; DROP"}},
        [f"spec.tags: tag 'team': the value has a character AWS does not allow in tags (\"'\"); use {TAG_ALPHABET}"],
        "webhook",
    ),
    (
        "too-many-tags",
        {"tags": {f"k{i}": "v" for i in range(41)}},
        ["spec.tags: must have at most 40 tags (got 41)"],
        "schema",
    ),
]


@pytest.mark.parametrize(("changes", "expected", "admission"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_refused_with_exact_messages(changes: dict[str, Any], expected: list[str], admission: str) -> None:
    assert_refused(KIND, mutated(TABLE, changes), expected, admission)


def test_tags_allow_aws_alphabet_including_unicode_letters() -> None:
    tags = {"équipe": "données", "cost-center": "42", "path": "a/b:c=d+e@f_g.h i"}
    assert check_tags(tags) == tags
    with pytest.raises(ValueError, match="a character AWS does not allow"):
        check_tags({"team": "a\tb"})


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"keys.sort": {"name": "createdAt", "type": "N"}}, ["spec.keys: immutable after creation"]),
        ({"tableName": "upskill-notifications"}, ["spec.tableName: immutable after creation"]),
        ({"globalIndexes": [], "ttlAttribute": "purgeAt", "deletionProtection": False}, []),
        ({"keys.partition": {"type": "S", "name": "pk"}, "keys.sort.type": "S", "tableName": None}, []),
    ],
)
def test_updates(changes: dict[str, Any], expected: list[str]) -> None:
    new = mutated(TABLE, changes)
    if expected:
        assert_refused(KIND, new, expected, "cel", old_spec=TABLE)
    assert validate_spec(KIND, new, old_spec=TABLE) == expected
