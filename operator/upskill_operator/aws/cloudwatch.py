"""The CloudWatch façade: the metric alarms of a resource, put, described, tagged and deleted.

Alarms are named ``<prefix>-<namespace>-<name>-<kind>[-<index>]``, so one DescribeAlarms by name
prefix (paged) finds every alarm a resource may own. DescribeAlarms returns no tags, so ownership is
read with ListTagsForResource on the alarm's ARN. PutMetricAlarm creates with tags, but AWS ignores
``Tags`` when it updates an existing alarm: tag repair goes through TagResource. DeleteAlarms takes at
most 100 names a call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from upskill_operator.aws.base import Facade
from upskill_operator.models.monitoring import AlarmDefinition
from upskill_operator.models.tags import tag_dict, tag_list

__all__ = ["DELETE_CHUNK", "CloudWatch", "ObservedAlarm"]

DELETE_CHUNK = 100
"""DeleteAlarms: at most 100 alarm names per call."""


@dataclass(frozen=True)
class ObservedAlarm:
    """One metric alarm as DescribeAlarms reports it: the fields we manage, its ARN and its state."""

    arn: str
    state: str
    definition: AlarmDefinition


def _definition(raw: Mapping[str, Any]) -> AlarmDefinition:
    dimensions = tuple(sorted((str(d["Name"]), str(d["Value"])) for d in raw.get("Dimensions") or ()))
    return AlarmDefinition(
        name=str(raw["AlarmName"]),
        namespace=str(raw.get("Namespace", "")),
        metric=str(raw.get("MetricName", "")),
        dimensions=dimensions,
        statistic=str(raw.get("Statistic") or raw.get("ExtendedStatistic") or ""),
        comparison=str(raw.get("ComparisonOperator", "")),
        threshold=float(raw.get("Threshold", 0.0)),
        period=int(raw.get("Period", 0)),
        evaluation_periods=int(raw.get("EvaluationPeriods", 0)),
        datapoints_to_alarm=int(raw.get("DatapointsToAlarm") or raw.get("EvaluationPeriods", 0)),
        treat_missing_data=str(raw.get("TreatMissingData") or "missing"),
        actions=tuple(sorted(str(a) for a in raw.get("AlarmActions") or ())),
        ok_actions=tuple(sorted(str(a) for a in raw.get("OKActions") or ())),
        description=str(raw.get("AlarmDescription") or ""),
    )


class CloudWatch(Facade):
    """Metric alarms: the calls one alarm set needs."""

    service = "cloudwatch"
    iam_prefix = "cloudwatch"
    operations = frozenset({"PutMetricAlarm", "DescribeAlarms", "DeleteAlarms", "ListTagsForResource", "TagResource"})

    def alarms(self, prefix: str) -> list[ObservedAlarm]:
        """Every metric alarm whose name starts with ``prefix`` (all pages)."""
        found = self.pages(
            "DescribeAlarms",
            "MetricAlarms",
            ("NextToken", "NextToken"),
            AlarmNamePrefix=prefix,
            AlarmTypes=["MetricAlarm"],
            MaxRecords=100,
        )
        return [
            ObservedAlarm(str(raw["AlarmArn"]), str(raw.get("StateValue", "INSUFFICIENT_DATA")), _definition(raw))
            for raw in found
        ]

    def put(self, alarm: AlarmDefinition, tags: Mapping[str, str] | None = None) -> None:
        """Create or overwrite one alarm with exactly ``alarm``'s configuration; ``tags`` count on create only."""
        params: dict[str, Any] = {
            "AlarmName": alarm.name,
            "AlarmDescription": alarm.description,
            "Namespace": alarm.namespace,
            "MetricName": alarm.metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in alarm.dimensions],
            "ComparisonOperator": alarm.comparison,
            "Threshold": alarm.threshold,
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "DatapointsToAlarm": alarm.datapoints_to_alarm,
            "TreatMissingData": alarm.treat_missing_data,
            "ActionsEnabled": True,
            "AlarmActions": list(alarm.actions),
            "OKActions": list(alarm.ok_actions),
        }
        if alarm.statistic.startswith("p"):
            params["ExtendedStatistic"] = alarm.statistic
        else:
            params["Statistic"] = alarm.statistic
        if tags:
            params["Tags"] = tag_list(tags)
        self.call("PutMetricAlarm", **params)

    def tags(self, arn: str) -> dict[str, str]:
        return tag_dict(self.call("ListTagsForResource", ResourceARN=arn).get("Tags"))

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        self.call("TagResource", ResourceARN=arn, Tags=tag_list(tags))

    def delete(self, names: Iterable[str]) -> None:
        """Delete alarms by name, 100 a call (AWS's limit); names that do not exist are ignored by AWS."""
        pending = sorted(set(names))
        for start in range(0, len(pending), DELETE_CHUNK):
            self.call("DeleteAlarms", AlarmNames=pending[start : start + DELETE_CHUNK])
