"""The CloudWatch extension of the moto server, through boto3 over HTTP: alarm states and PutMetricAlarm's rules.

Each test is one the plain moto 5.2.5 server fails: a new alarm was OK, an update reset the state and
merged tags, and periods, statistics, name lengths and datapoint counts AWS refuses were stored.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from upskill_sandbox.aws import MotoServer

REGION = "us-east-1"
ALARM: dict[str, Any] = {
    "AlarmName": "upskill-ns-db-cpu",
    "Namespace": "AWS/RDS",
    "MetricName": "CPUUtilization",
    "Dimensions": [{"Name": "DBClusterIdentifier", "Value": "upskill-ns-db"}],
    "Statistic": "Average",
    "Period": 300,
    "EvaluationPeriods": 3,
    "Threshold": 80.0,
    "ComparisonOperator": "GreaterThanThreshold",
}


@pytest.fixture
def cw(server: MotoServer) -> Any:
    server.reset()
    return server.client("cloudwatch", REGION)


def described(cw: Any, name: str = ALARM["AlarmName"]) -> dict[str, Any]:
    (alarm,) = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return dict(alarm)


def test_a_new_alarm_has_insufficient_data(cw: Any) -> None:
    cw.put_metric_alarm(**ALARM)
    assert described(cw)["StateValue"] == "INSUFFICIENT_DATA"


def test_an_update_keeps_the_state_and_ignores_tags(cw: Any) -> None:
    cw.put_metric_alarm(**ALARM, Tags=[{"Key": "upskill.io/owner", "Value": "ns/db"}])
    cw.set_alarm_state(AlarmName=ALARM["AlarmName"], StateValue="ALARM", StateReason="test")
    cw.put_metric_alarm(**{**ALARM, "Threshold": 90.0}, Tags=[{"Key": "upskill.io/owner", "Value": "other/x"}])
    alarm = described(cw)
    assert (alarm["StateValue"], alarm["Threshold"]) == ("ALARM", 90.0)
    tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    assert tags == [{"Key": "upskill.io/owner", "Value": "ns/db"}]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Period": 45}, "Period must be 10, 20, 30 or a multiple of 60"),
        ({"Period": 10, "EvaluationPeriods": 1}, None),
        ({"Statistic": "Median"}, "Statistic must be one of"),
        ({"ExtendedStatistic": "p99"}, "exactly one of Statistic and ExtendedStatistic"),
        ({"AlarmName": "a" * 256}, "AlarmName must be 1-255 characters"),
        ({"DatapointsToAlarm": 4}, "DatapointsToAlarm must be at most EvaluationPeriods"),
        ({"Period": 600, "EvaluationPeriods": 200}, "at most 86400 seconds"),
        ({"Period": 3600, "EvaluationPeriods": 168}, None),
    ],
)
def test_put_metric_alarm_refuses_what_aws_refuses(cw: Any, change: dict[str, Any], message: str | None) -> None:
    if message is None:
        cw.put_metric_alarm(**{**ALARM, **change})
        return
    with pytest.raises(ClientError) as refused:
        cw.put_metric_alarm(**{**ALARM, **change})
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert message in refused.value.response["Error"]["Message"]
    assert cw.describe_alarms()["MetricAlarms"] == []
