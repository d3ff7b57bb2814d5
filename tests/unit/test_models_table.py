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


GSI = {"name": "byUser", "partition": {"name": "pk", "type": "N"}}
INVALID: list[Any] = [
    ("key-type", {"keys.partition.type": "X"}, ["spec.keys.partition.type: Input should be 'S', 'N' or 'B'"], "schema"),
    (
        "same-keys",
        {"keys.sort.name": "pk"},
        ["spec.keys: partition and sort keys must be different attributes"],
        "webhook",
    ),
    (
        "index-name",
        {"globalIndexes[0].name": "ab"},
        ["spec.globalIndexes[0].name: String should match pattern '^[a-zA-Z0-9_.-]{3,255}$'"],
        "schema",
    ),
    (
        "type-conflict",
        {"globalIndexes": [GSI]},
        ["spec: attribute 'pk' is type N in globalIndexes[0].partition but S in keys.partition"],
        "webhook",
    ),
    (
        "include-without-attributes",
        {"globalIndexes[0].projection": "INCLUDE"},
        ["spec.globalIndexes[0]: projection INCLUDE needs nonKeyAttributes"],
        "webhook",
    ),
    (
        "pitr-days",
        {"pointInTimeRecovery.recoveryPeriodDays": 36},
        ["spec.pointInTimeRecovery.recoveryPeriodDays: Input should be less than or equal to 35"],
        "schema",
    ),
    (
        "stream",
        {"stream": "ALL"},
        ["spec.stream: Input should be 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES' or 'KEYS_ONLY'"],
        "schema",
    ),
    (
        "table-name-long",
        {"tableName": "t" * 256},
        ["spec.tableName: String should match pattern '^[a-zA-Z0-9_.-]{3,255}$'"],
        "schema",
    ),
    (
        "table-name-unicode",
        {"tableName": "tablé"},
        ["spec.tableName: String should match pattern '^[a-zA-Z0-9_.-]{3,255}$'"],
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
        ["spec.tags: tag 'team' has characters AWS does not allow in tags"],
        "webhook",
    ),
    (
        "tag-injection",
        {"tags": {"team": "x'; DROP"}},
        ["spec.tags: tag 'team' has characters AWS does not allow in tags"],
        "webhook",
    ),
    ("too-many-tags", {"tags": {f"k{i}": "v" for i in range(41)}}, ["spec.tags: at most 40 tags (got 41)"], "webhook"),
]


@pytest.mark.parametrize(("changes", "expected", "admission"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_refused_with_exact_messages(changes: dict[str, Any], expected: list[str], admission: str) -> None:
    assert_refused(KIND, mutated(TABLE, changes), expected, admission)


def test_tags_allow_aws_alphabet_including_unicode_letters() -> None:
    tags = {"équipe": "données", "cost-center": "42", "path": "a/b:c=d+e@f_g.h i"}
    assert check_tags(tags) == tags
    with pytest.raises(ValueError, match="characters AWS does not allow"):
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
