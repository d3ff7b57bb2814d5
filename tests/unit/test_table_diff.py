"""The pure table comparison: AWS defaults normalised away, one named case per difference, no AWS."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from upskill_operator.adapters.table.plan import Plan, plan_changes
from upskill_operator.adapters.table.state import create_request, desired_table, observed_table
from upskill_operator.models.table import TableSpec

KEY = "arn:aws:kms:us-east-1:123456789012:key/k-1"
OWN = {"upskill.io/owner": "team/orders", "upskill.io/uid": "u-1"}
SPEC: dict[str, Any] = {
    "keys": {"partition": {"name": "pk", "type": "S"}, "sort": {"name": "sk", "type": "S"}},
    "globalIndexes": [
        {"name": "byUser", "partition": {"name": "userId", "type": "S"}, "sort": {"name": "at", "type": "N"}},
        {
            "name": "byKind",
            "partition": {"name": "kind", "type": "S"},
            "projection": "INCLUDE",
            "nonKeyAttributes": ["b", "a"],
        },
    ],
    "ttlAttribute": "expiresAt",
    "stream": "NEW_IMAGE",
    "pointInTimeRecovery": {"enabled": True, "recoveryPeriodDays": 35},
    "encryption": {"kmsKeyId": "alias/upskill"},
    "deletionProtection": True,
    "tags": {"team": "growth"},
}


def aws(**changes: Any) -> dict[str, Any]:
    """DescribeTable + TTL + PITR + tags for a table that matches SPEC, as AWS reports it."""
    table = {
        "TableName": "t",
        "TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/t",
        "TableStatus": "ACTIVE",
        "KeySchema": [{"AttributeName": "sk", "KeyType": "RANGE"}, {"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t}
            for n, t in [("pk", "S"), ("sk", "S"), ("userId", "S"), ("at", "N"), ("kind", "S")]
        ],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "byUser",
                "KeySchema": [
                    {"AttributeName": "userId", "KeyType": "HASH"},
                    {"AttributeName": "at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
                "IndexStatus": "ACTIVE",
            },
            {
                "IndexName": "byKind",
                "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]},
                "IndexStatus": "ACTIVE",
            },
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        "LatestStreamArn": "arn:stream",
        "SSEDescription": {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": KEY},
        "DeletionProtectionEnabled": True,
    }
    world = {
        "table": table,
        "ttl": {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"},
        "pitr": {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": 35},
        "tags": {**OWN, "team": "growth"},
    }
    for key, value in changes.items():  # None removes a field: AWS omits what is unset
        where: dict[str, Any] = world if key in ("ttl", "pitr", "tags") else table
        if value is None:
            where.pop(key, None)
        else:
            where[key] = value
    return world


def plan(spec_changes: dict[str, Any] | None = None, managed: tuple[str, ...] = (), **aws_changes: Any) -> Plan:
    spec = TableSpec.model_validate({**copy.deepcopy(SPEC), **(spec_changes or {})})
    desired = desired_table(spec, "t", {**spec.tags, **OWN}, KEY)
    world = aws(**aws_changes)
    backups = {"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": world["pitr"]}
    observed = observed_table(world["table"], world["ttl"], backups, world["tags"])
    return plan_changes(desired, observed, managed)


@pytest.mark.parametrize(
    "aws_changes",
    [
        pytest.param({}, id="identical"),
        pytest.param({"pitr": {"PointInTimeRecoveryStatus": "ENABLED"}}, id="pitr-period-absent-means-35"),
        pytest.param(
            {"BillingModeSummary": None, "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}},
            id="billing-summary-absent-zero-capacity",
        ),
        pytest.param({"tags": {**OWN, "team": "growth", "foreign": "x"}}, id="foreign-tag-ignored"),
    ],
)
def test_unchanged_table_has_no_diff(aws_changes: dict[str, Any]) -> None:
    result = plan(**aws_changes)
    assert (result.diff, result.conflicts, result.pending, result.table_update) == ((), (), None, None)


@pytest.mark.parametrize(
    ("spec_changes", "aws_changes"),
    [
        pytest.param({"encryption": None}, {"SSEDescription": None}, id="sse-absent"),
        pytest.param({"encryption": None}, {"SSEDescription": {"Status": "DISABLED"}}, id="sse-disabled"),
        pytest.param({"stream": None}, {"StreamSpecification": None}, id="stream-absent"),
        pytest.param({"stream": None}, {"StreamSpecification": {"StreamEnabled": False}}, id="stream-disabled"),
        pytest.param(
            {"ttlAttribute": None},
            {"ttl": {"TimeToLiveStatus": "DISABLED", "AttributeName": "old"}},
            id="ttl-disabled-keeps-name",
        ),
        pytest.param(
            {"pointInTimeRecovery": {"enabled": False, "recoveryPeriodDays": 7}},
            {"pitr": {"PointInTimeRecoveryStatus": "DISABLED"}},
            id="pitr-off-period-ignored",
        ),
    ],
)
def test_aws_defaults_are_normalised(spec_changes: dict[str, Any], aws_changes: dict[str, Any]) -> None:
    assert plan(spec_changes, **aws_changes).diff == ()


@pytest.mark.parametrize(
    ("spec_changes", "aws_changes", "diff", "update"),
    [
        pytest.param(
            {},
            {"BillingModeSummary": {"BillingMode": "PROVISIONED"}},
            ("billingMode",),
            {"billing_mode": "PAY_PER_REQUEST"},
            id="billing",
        ),
        pytest.param(
            {"deletionProtection": False},
            {},
            ("spec.deletionProtection",),
            {"deletion_protection": False},
            id="protection",
        ),
        pytest.param({"encryption": None}, {}, ("spec.encryption",), {"sse": {"Enabled": False}}, id="sse-off"),
        pytest.param(
            {},
            {"SSEDescription": None},
            ("spec.encryption",),
            {"sse": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": KEY}},
            id="sse-on",
        ),
        pytest.param({"stream": None}, {}, ("spec.stream",), {"stream": {"StreamEnabled": False}}, id="stream-off"),
        pytest.param(
            {},
            {"StreamSpecification": None},
            ("spec.stream",),
            {"stream": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}},
            id="stream-on",
        ),
        pytest.param(
            {"stream": "KEYS_ONLY"},
            {},
            ("spec.stream (disable first)",),
            {"stream": {"StreamEnabled": False}},
            id="stream-view-change",
        ),
    ],
)
def test_table_level_changes(
    spec_changes: dict[str, Any], aws_changes: dict[str, Any], diff: tuple[str, ...], update: dict[str, Any]
) -> None:
    result = plan(spec_changes, **aws_changes)
    assert result.diff == diff
    assert result.table_update is not None
    assert result.table_update.arguments() == update
    assert (result.ttl, result.pitr, result.tags_to_set, result.tags_to_remove) == (None, None, {}, ())


def test_only_one_update_table_per_plan_in_a_fixed_order() -> None:
    result = plan({"deletionProtection": False, "stream": None}, BillingModeSummary={"BillingMode": "PROVISIONED"})
    assert result.diff == ("billingMode", "spec.deletionProtection", "spec.stream")
    assert result.table_update is not None
    assert result.table_update.path == "billingMode"


@pytest.mark.parametrize(
    ("spec_changes", "aws_changes", "diff", "ttl"),
    [
        pytest.param(
            {}, {"ttl": {"TimeToLiveStatus": "DISABLED"}}, "spec.ttlAttribute", (True, "expiresAt"), id="enable"
        ),
        pytest.param({"ttlAttribute": None}, {}, "spec.ttlAttribute", (False, "expiresAt"), id="disable"),
        pytest.param(
            {"ttlAttribute": "deleteAt"}, {}, "spec.ttlAttribute (disable first)", (False, "expiresAt"), id="rename"
        ),
    ],
)
def test_ttl_changes(
    spec_changes: dict[str, Any], aws_changes: dict[str, Any], diff: str, ttl: tuple[bool, str]
) -> None:
    result = plan(spec_changes, **aws_changes)
    assert (result.diff, result.ttl, result.table_update) == ((diff,), ttl, None)


@pytest.mark.parametrize(
    ("pitr_spec", "pitr_aws", "want"),
    [
        pytest.param(
            {"enabled": True, "recoveryPeriodDays": 7}, {"PointInTimeRecoveryStatus": "ENABLED"}, (True, 7), id="period"
        ),
        pytest.param({"enabled": True}, {"PointInTimeRecoveryStatus": "DISABLED"}, (True, 35), id="enable"),
        pytest.param(
            {"enabled": False},
            {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": 35},
            (False, 35),
            id="disable",
        ),
    ],
)
def test_pitr_changes(pitr_spec: dict[str, Any], pitr_aws: dict[str, Any], want: tuple[bool, int]) -> None:
    result = plan({"pointInTimeRecovery": pitr_spec}, pitr=pitr_aws)
    assert (result.diff, result.pitr) == (("spec.pointInTimeRecovery",), want)


def test_tags_remove_only_previously_managed_keys() -> None:
    result = plan(
        {"tags": {"team": "platform", "env": "prod"}},
        managed=("upskill.io/owner", "upskill.io/uid", "team", "tier"),
        tags={**OWN, "team": "growth", "tier": "gold", "foreign": "x"},
    )
    assert result.diff == ("tags",)
    assert result.tags_to_set == {"team": "platform", "env": "prod"}
    assert result.tags_to_remove == ("tier",)
    assert result.managed_tag_keys == tuple(sorted([*OWN, "team", "env", "tier"]))  # tier until it is gone


def test_missing_ownership_tags_are_a_tag_diff() -> None:
    result = plan(tags={"team": "growth"})
    assert (result.diff, result.tags_to_set) == (("tags",), OWN)


def test_two_new_indexes_are_created_one_per_update() -> None:
    indexes = [*SPEC["globalIndexes"], {"name": "byDay", "partition": {"name": "day", "type": "S"}}]
    indexes.append({"name": "byHour", "partition": {"name": "hour", "type": "N"}})
    result = plan({"globalIndexes": indexes})
    assert result.diff == ("spec.globalIndexes[byDay]", "spec.globalIndexes[byHour]")
    update = result.table_update
    assert update is not None
    assert update.index_updates is not None
    assert [u["Create"]["IndexName"] for u in update.index_updates] == ["byDay"]
    defined = {d["AttributeName"]: d["AttributeType"] for d in update.attribute_definitions or ()}
    assert defined == {"pk": "S", "sk": "S", "userId": "S", "at": "N", "kind": "S", "day": "S"}


def test_removed_index_is_deleted_before_any_creation() -> None:
    indexes = [SPEC["globalIndexes"][0], {"name": "byDay", "partition": {"name": "day", "type": "S"}}]
    result = plan({"globalIndexes": indexes})
    assert result.diff == ("spec.globalIndexes[byKind]", "spec.globalIndexes[byDay]")
    assert result.table_update is not None
    assert result.table_update.index_updates == [{"Delete": {"IndexName": "byKind"}}]


def test_changed_index_is_replaced_delete_first() -> None:
    changed = copy.deepcopy(SPEC["globalIndexes"])
    changed[1]["nonKeyAttributes"] = ["a", "c"]
    result = plan({"globalIndexes": changed})
    assert result.diff == ("spec.globalIndexes[byKind] (replace: delete first)",)
    assert result.table_update is not None
    assert result.table_update.index_updates == [{"Delete": {"IndexName": "byKind"}}]


def test_key_schema_change_is_a_conflict() -> None:
    result = plan({"keys": {"partition": {"name": "id", "type": "N"}}})
    assert result.conflicts == ("spec.keys: immutable after creation (AWS has pk:S/sk:S, spec asks id:N)",)


@pytest.mark.parametrize(
    ("aws_changes", "pending"),
    [
        pytest.param({"TableStatus": "CREATING"}, "table is CREATING", id="table"),
        pytest.param({"ttl": {"TimeToLiveStatus": "DISABLING", "AttributeName": "x"}}, "TTL is DISABLING", id="ttl"),
        pytest.param(
            {"SSEDescription": {"Status": "UPDATING", "SSEType": "KMS", "KMSMasterKeyArn": KEY}},
            "SSE is UPDATING",
            id="sse",
        ),
    ],
)
def test_transitional_states_are_pending(aws_changes: dict[str, Any], pending: str) -> None:
    assert plan(**aws_changes).pending == pending


def test_create_request_sets_everything_create_table_can() -> None:
    spec = TableSpec.model_validate(SPEC)
    request = create_request(desired_table(spec, "t", {**spec.tags, **OWN}, KEY))
    assert request["key_schema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert [d["AttributeName"] for d in request["attribute_definitions"]] == ["pk", "sk", "userId", "at", "kind"]
    assert request["global_indexes"][1]["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]}
    assert request["stream"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert request["sse"] == {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": KEY}
    assert (request["deletion_protection"], request["tags"]) == (True, {"team": "growth", **OWN})
