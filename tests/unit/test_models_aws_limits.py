"""AWS limits judged by validate_spec before any write: DynamoDB, RDS, Secrets Manager and Kubernetes keys.

Each row names the gate that first refuses it (``schema``: the CRD; ``webhook``: only validate_spec).
Sources are listed in docs/admission.md.
"""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.models.common import DYNAMODB_TAGS, RDS_TAGS, check_tags

from unit.crd_support import assert_refused, example, mutated

TABLE = example("UpskillTable", "notifications")["spec"]
DATABASE = example("UpskillDatabase", "auth-db")["spec"]
GENERATED = example("UpskillSecret", "better-auth-secret")["spec"]
IMPORTED = example("UpskillSecret", "stripe-key")["spec"]
INCLUDE = {"name": "byUser", "partition": {"name": "userId", "type": "S"}, "projection": "INCLUDE"}


def _indexes(count: int, per_index: int) -> list[dict[str, Any]]:
    return [
        {**INCLUDE, "name": f"index{i}", "nonKeyAttributes": [f"a{i}x{j}" for j in range(per_index)]}
        for i in range(count)
    ]


CASES: list[Any] = [
    (
        "projected-per-index",
        "UpskillTable",
        TABLE,
        {"globalIndexes": _indexes(1, 21)},
        ["spec.globalIndexes[0].nonKeyAttributes: must have at most 20 items (got 21)"],
        "schema",
    ),
    (
        "projected-per-table",
        "UpskillTable",
        TABLE,
        {"globalIndexes": _indexes(6, 17)},
        ["spec.globalIndexes: nonKeyAttributes summed over all indexes must be at most 100 (got 102)"],
        "webhook",
    ),
    (
        "key-name-bytes",
        "UpskillTable",
        TABLE,
        {"keys.partition.name": "é" * 128},
        ["spec.keys.partition.name: must be at most 255 bytes in UTF-8 (got 256)"],
        "webhook",
    ),
    (
        "projected-name-empty",
        "UpskillTable",
        TABLE,
        {"globalIndexes": [{**INCLUDE, "nonKeyAttributes": [""]}]},
        ["spec.globalIndexes[0].nonKeyAttributes[0]: must be at least 1 characters (got 0)"],
        "schema",
    ),
    (
        "ttl-string-key",
        "UpskillTable",
        TABLE,
        {"ttlAttribute": "sk"},
        [
            "spec.ttlAttribute: 'sk' is a key of type S (keys.sort); TTL reads only Number attributes "
            "(epoch seconds), so no item would ever expire"
        ],
        "webhook",
    ),
    (
        "index-sort-is-partition",
        "UpskillTable",
        TABLE,
        {"globalIndexes": [{**INCLUDE, "nonKeyAttributes": ["title"], "sort": {"name": "userId", "type": "S"}}]},
        ["spec.globalIndexes[0].sort.name: must differ from partition.name (both are 'userId')"],
        "webhook",
    ),
    (
        "table-tag-at",
        "UpskillTable",
        TABLE,
        {"tags": {"owner": "team@example"}},
        [
            "spec.tags: tag 'owner': the value has a character AWS does not allow in tags ('@'); "
            "use letters, digits, spaces and _ . : / = + -"
        ],
        "webhook",
    ),
    (
        "rds-tag-key",
        "UpskillDatabase",
        DATABASE,
        {"tags": {"rds:team": "x"}},
        ["spec.tags: tag key 'rds:team' uses a prefix RDS reserves (rds:)"],
        "webhook",
    ),
    (
        "rds-tag-value",
        "UpskillDatabase",
        DATABASE,
        {"tags": {"team": "aws:learning"}},
        ["spec.tags: tag 'team': the value must not start with aws: or rds: (RDS refuses it)"],
        "webhook",
    ),
    (
        "master-user-17",
        "UpskillDatabase",
        DATABASE,
        {"masterUser": {"username": "a" * 17}},
        ["spec.masterUser.username: must be at most 16 characters for an RDS master user (got 17)"],
        "webhook",
    ),
    (
        "secret-tag-value",
        "UpskillSecret",
        GENERATED,
        {"tags": {"team": "AWS:x"}},
        ["spec.tags: tag 'team': the value must not start with aws: (Secrets Manager refuses it)"],
        "webhook",
    ),
    (
        "secret-key-dotdot",
        "UpskillSecret",
        IMPORTED,
        {"source.fromSecret.key": "..data"},
        [
            "spec.source.fromSecret.key: must not be '.' or '..' or start with '..' "
            "(Kubernetes refuses such Secret keys)"
        ],
        "webhook",
    ),
]


@pytest.mark.parametrize(
    ("kind", "base", "changes", "expected", "admission"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_refused_naming_the_field_and_the_limit(
    kind: str, base: dict[str, Any], changes: dict[str, Any], expected: list[str], admission: str
) -> None:
    assert_refused(kind, mutated(base, changes), expected, admission)


def test_at_the_limits_is_accepted() -> None:
    assert_refused("UpskillTable", mutated(TABLE, {"globalIndexes": _indexes(5, 20)}), [], "webhook")
    assert_refused("UpskillTable", mutated(TABLE, {"keys.partition.name": "é" * 127 + "a"}), [], "webhook")
    assert_refused("UpskillTable", mutated(TABLE, {"ttlAttribute": "createdAt"}), [], "webhook")  # an N key
    assert_refused("UpskillDatabase", mutated(DATABASE, {"masterUser": {"username": "a" * 16}}), [], "webhook")


def test_each_service_has_its_own_tag_rules() -> None:
    assert check_tags({"contact": "a@b"}) == {"contact": "a@b"}  # Secrets Manager and RDS allow @
    assert check_tags({"contact": "a@b"}, RDS_TAGS) == {"contact": "a@b"}
    with pytest.raises(ValueError, match="'@'"):
        check_tags({"contact": "a@b"}, DYNAMODB_TAGS)
    assert check_tags({"team": "rds:x"}) == {"team": "rds:x"}  # only RDS reserves rds:
    with pytest.raises(ValueError, match="RDS refuses it"):
        check_tags({"team": "RDS:x"}, RDS_TAGS)
