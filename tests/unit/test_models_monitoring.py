"""spec.monitoring as the webhook and the handlers check it: CloudWatch's rules, with the field path."""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.models.validation import validate_spec

TABLE: dict[str, Any] = {"keys": {"partition": {"name": "pk", "type": "S"}}}
DATABASE: dict[str, Any] = {
    "engineVersion": "16.4",
    "databaseName": "app",
    "capacity": {"serverless": {"minACU": 0.5, "maxACU": 4}},
    "network": {"subnetIds": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]},
}


def table_errors(monitoring: Any) -> list[str]:
    return validate_spec("UpskillTable", {**TABLE, "monitoring": monitoring})


def test_absent_and_empty_are_valid() -> None:
    assert validate_spec("UpskillTable", TABLE) == []
    assert table_errors({}) == []
    assert validate_spec("UpskillDatabase", {**DATABASE, "monitoring": {}}) == []


@pytest.mark.parametrize(
    ("monitoring", "expected"),
    [
        (
            {"alarms": {"readThrottles": {"period": 45}}},
            "spec.monitoring.alarms.readThrottles.period: must be between 60",
        ),
        (
            {"alarms": {"readThrottles": {"period": 90}}},
            "spec.monitoring.alarms.readThrottles.period: must be a multiple of 60",
        ),
        (
            {"alarms": {"readThrottles": {"evaluationPeriods": 2, "datapointsToAlarm": 3}}},
            "spec.monitoring.alarms.readThrottles.datapointsToAlarm: must be at most evaluationPeriods (2) (got 3)",
        ),
        (
            {"alarms": {"systemErrors": {"period": 3600, "evaluationPeriods": 200}}},
            "spec.monitoring.alarms.systemErrors.evaluationPeriods: period x evaluationPeriods must be at most 604800",
        ),
        ({"alarms": {"readThrottles": {"threshold": -1}}}, "spec.monitoring.alarms.readThrottles.threshold"),
        ({"alarms": {"cpu": {}}}, "spec.monitoring.alarms.cpu: unknown field"),
        ({"actions": ["arn:aws:sqs:eu-west-1:111122223333:q"]}, "spec.monitoring.actions[0]: must be an SNS topic ARN"),
        ({"actions": ["arn:aws:sns:eu-west-1:1111:q"]}, "spec.monitoring.actions[0]: must be an SNS topic ARN"),
        ({"actions": [f"arn:aws:sns:eu-west-1:111122223333:t{i}" for i in range(6)]}, "spec.monitoring.actions"),
    ],
)
def test_what_cloudwatch_refuses_is_refused_with_the_field(monitoring: Any, expected: str) -> None:
    errors = table_errors(monitoring)
    assert any(expected in e for e in errors), errors


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sns:eu-west-1:111122223333:oncall",
        "arn:aws-cn:sns:cn-north-1:111122223333:a_b-c",
        "arn:aws-us-gov:sns:us-gov-west-1:111122223333:x",
    ],
)
def test_sns_topic_arns_of_every_partition_are_accepted(arn: str) -> None:
    assert table_errors({"actions": [arn]}) == []


def test_a_percentage_threshold_above_100_is_refused_for_the_database() -> None:
    errors = validate_spec("UpskillDatabase", {**DATABASE, "monitoring": {"alarms": {"cpu": {"threshold": 150}}}})
    assert any("spec.monitoring.alarms.cpu.threshold: must be at most 100 percent (got 150)" in e for e in errors), (
        errors
    )
    ok = {"alarms": {"proxyBorrowLatency": {"threshold": 250000}, "replicaLag": {"enabled": False}}}
    assert validate_spec("UpskillDatabase", {**DATABASE, "monitoring": ok}) == []
