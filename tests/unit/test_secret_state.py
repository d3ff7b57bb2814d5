"""The metadata diff of a secret (tags, description, KMS key, AWS rotation) and the refresh clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from upskill_operator.adapters.secret.state import AwsRotation, ObservedSecret, metadata_plan, observed_secret
from upskill_operator.adapters.secret.timing import due
from upskill_operator.models.secret import SecretSpec

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:rotate"
OWN = {"upskill.io/owner": "team/app", "upskill.io/uid": "u1"}


def spec(**wire: Any) -> SecretSpec:
    return SecretSpec.model_validate({"source": {"generate": {}}, **wire})


def same(wanted: str, reported: str | None) -> bool:
    return wanted == reported


def observed(**fields: Any) -> ObservedSecret:
    return ObservedSecret(name="n", arn="arn", **{"tags": dict(OWN), **fields})


def test_describe_secret_is_parsed() -> None:
    raw = {
        "ARN": "arn",
        "Name": "n",
        "DeletedDate": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        "Tags": [{"Key": "k", "Value": "v"}],
        "RotationEnabled": True,
        "RotationLambdaARN": LAMBDA,
        "RotationRules": {"AutomaticallyAfterDays": 30, "Duration": None},
        "VersionIdsToStages": {"a": ["AWSCURRENT"], "b": ["AWSPREVIOUS"]},
    }
    found = observed_secret(raw)
    assert found.deleted
    assert found.tags == {"k": "v"}
    assert found.rotation == AwsRotation(LAMBDA, {"AutomaticallyAfterDays": 30})
    assert (found.current_id, found.previous_id) == ("a", "b")


@pytest.mark.parametrize(
    ("wire", "seen", "diff"),
    [
        ({}, {}, ()),
        ({"tags": {"team": "x"}}, {}, ("tags",)),
        ({"description": "d"}, {}, ("spec.description",)),
        ({"description": "d"}, {"description": "d"}, ()),
        ({"kmsKeyId": "alias/upskill"}, {}, ("spec.kmsKeyId",)),
        ({"kmsKeyId": "alias/upskill"}, {"kms_key": "alias/upskill"}, ()),
        ({}, {"kms_key": "alias/other"}, ("spec.kmsKeyId",)),
        ({"rotation": {"everyDays": 30, "lambdaArn": LAMBDA}}, {}, ("spec.rotation",)),
        (
            {"rotation": {"everyDays": 30, "lambdaArn": LAMBDA}},
            {"rotation": AwsRotation(LAMBDA, {"AutomaticallyAfterDays": 30, "Duration": "3h"})},
            (),
        ),
        (
            {"rotation": {"everyDays": 30}},
            {"rotation": AwsRotation(LAMBDA, {"AutomaticallyAfterDays": 30})},
            ("spec.rotation",),
        ),
    ],
    ids=[
        "same",
        "tag",
        "description",
        "description-same",
        "kms",
        "kms-same",
        "kms-back-to-default",
        "lambda",
        "lambda-same",
        "lambda-removed",
    ],
)
def test_metadata_diff(wire: dict[str, Any], seen: dict[str, Any], diff: tuple[str, ...]) -> None:
    s = spec(**wire)
    plan = metadata_plan(s, observed(**seen), {**s.tags, **OWN}, (), same)
    assert plan.diff == diff


def test_only_tags_set_before_are_removed() -> None:
    plan = metadata_plan(spec(), observed(tags={**OWN, "old": "1", "theirs": "2"}), OWN, ("old",), same)
    assert plan.tags_to_remove == ("old",)
    assert plan.cancel_rotation is False


def test_lambda_removed_cancels_aws_rotation() -> None:
    plan = metadata_plan(spec(), observed(rotation=AwsRotation(LAMBDA, {})), OWN, (), same)
    assert plan.cancel_rotation


NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("wire", "status", "annotations", "expected"),
    [
        ({}, {}, {}, None),  # never synced: the create handler owns it
        (
            {"target": {"secretName": "e", "key": "K", "refreshIntervalSeconds": 60}},
            {"arn": "a", "lastRefreshTime": "2025-06-01T11:59:30Z"},
            {},
            None,
        ),
        (
            {"target": {"secretName": "e", "key": "K", "refreshIntervalSeconds": 60}},
            {"arn": "a", "lastRefreshTime": "2025-06-01T11:58:00Z"},
            {},
            "refresh",
        ),
        (
            {"rotation": {"everyDays": 1}},
            {"arn": "a", "lastSyncTime": "2025-06-01T11:59:00Z", "nextRotationTime": "2025-06-01T11:00:00Z"},
            {},
            "rotation",
        ),
        ({}, {"arn": "a", "lastSyncTime": "2025-06-01T11:59:00Z"}, {"upskill.io/rotate": "now"}, "rotation requested"),
        (
            {},
            {"arn": "a", "lastSyncTime": "2025-06-01T11:59:00Z", "rotationRequest": "now"},
            {"upskill.io/rotate": "now"},
            None,
        ),
    ],
    ids=["new", "fresh", "stale", "rotation", "request", "request-handled"],
)
def test_what_is_due(
    wire: dict[str, Any], status: dict[str, Any], annotations: dict[str, str], expected: str | None
) -> None:
    assert due(spec(**wire), status, annotations, NOW) == expected
