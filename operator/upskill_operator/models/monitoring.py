"""``spec.monitoring``: the CloudWatch alarms of a resource, their defaults and what a user may change.

Absent: no alarms. ``{}``: every default alarm of the kind, with no action (state is still shown in
status and Prometheus). Per alarm kind a user may turn it off, change its threshold, period,
evaluation periods and datapoints to alarm; ``actions`` are SNS topic ARNs notified on ALARM and OK.
Unknown alarm kinds are refused (``extra=forbid``), so a typo cannot silently keep a default.

The defaults are in :mod:`.alarm_defaults` (re-exported here). RDS and DynamoDB publish one-minute
data, so a period must be a multiple of 60: CloudWatch's 10, 20 and 30 s periods are for
high-resolution custom metrics and would lapse into INSUFFICIENT_DATA here.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from upskill_operator.models.alarm_defaults import DATABASE_ALARMS, TABLE_ALARMS, AlarmDefault, AlarmDefinition
from upskill_operator.models.common import Model, StatusModel
from upskill_operator.models.rules import Between, Matches, Problem, Unique, num, raise_all

__all__ = [
    "DATABASE_ALARMS",
    "TABLE_ALARMS",
    "AlarmDefault",
    "AlarmDefinition",
    "AlarmOverride",
    "AlarmStatus",
    "DatabaseAlarms",
    "DatabaseMonitoring",
    "TableAlarms",
    "TableMonitoring",
]

SNS_TOPIC_ARN = r"^arn:aws(-cn|-us-gov)?:sns:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:[A-Za-z0-9_-]{1,256}$"
TopicArn = Annotated[
    str,
    Matches(
        SNS_TOPIC_ARN, "must be an SNS topic ARN: arn:aws[-cn|-us-gov]:sns:<region>:<12-digit account>:<topic>", 330
    ),
]
MAX_ACTIONS = 5
"""CloudWatch: at most five actions per alarm state."""


class AlarmOverride(Model):
    """What a user may change of one default alarm; unset fields keep the default."""

    enabled: bool = Field(True, description="Create this alarm; false deletes it.")
    threshold: Annotated[float, Between(0, 1e15)] | None = Field(
        None, description="The threshold, in the metric's unit (percent, bytes, microseconds, ...)."
    )
    period: Annotated[int, Between(60, 86_400, step=60)] | None = Field(
        None,
        description="Seconds per datapoint: a multiple of 60 (these services publish one-minute data; CloudWatch's "
        "10, 20 and 30 s periods are for high-resolution custom metrics).",
    )
    evaluation_periods: Annotated[int, Between(1, 1440)] | None = Field(
        None, description="Periods evaluated (period x evaluationPeriods at most one day, seven for hourly periods)."
    )
    datapoints_to_alarm: Annotated[int, Between(1, 1440)] | None = Field(
        None, description="Breaching datapoints among evaluationPeriods that make the alarm fire."
    )


def _override_problems(kind: str, default: AlarmDefault, override: AlarmOverride) -> list[Problem]:
    """The rules CloudWatch applies across fields, on the effective values (defaults filled in)."""
    problems: list[Problem] = []
    threshold = override.threshold
    if threshold is not None and threshold > default.high:
        problems.append(
            ((kind, "threshold"), f"must be at most {num(default.high)} {default.unit} (got {num(threshold)})")
        )
    period = override.period or default.period
    evaluations = override.evaluation_periods or default.evaluation_periods
    datapoints = override.datapoints_to_alarm or min(default.datapoints_to_alarm, evaluations)
    if datapoints > evaluations:
        problems.append(
            ((kind, "datapointsToAlarm"), f"must be at most evaluationPeriods ({evaluations}) (got {datapoints})")
        )
    limit = 86_400 if period < 3600 else 604_800
    if period * evaluations > limit:
        problems.append(
            (
                (kind, "evaluationPeriods"),
                f"period x evaluationPeriods must be at most {limit} seconds (got {period} x {evaluations})",
            )
        )
    return problems


class _Alarms(Model):
    def overrides(self) -> dict[str, AlarmOverride]:
        """Wire kind -> override (the default override for a kind the spec does not name)."""
        return {
            self.model_fields[field].alias or field: getattr(self, field) or AlarmOverride()
            for field in type(self).model_fields
        }

    def _check(self, defaults: dict[str, AlarmDefault]) -> None:
        problems = [p for kind, o in self.overrides().items() for p in _override_problems(kind, defaults[kind], o)]
        raise_all(problems)


class DatabaseAlarms(_Alarms):
    """The default alarms of an UpskillDatabase; name one to change or disable it."""

    cpu: AlarmOverride | None = Field(None, description="Cluster CPUUtilization (Average) above 80 %.")
    connections: AlarmOverride | None = Field(None, description="Cluster DatabaseConnections (Maximum) above 400.")
    freeable_memory: AlarmOverride | None = Field(
        None, description="Cluster FreeableMemory (Minimum) below 256 MiB, in bytes."
    )
    acu_utilization: AlarmOverride | None = Field(
        None, description="Serverless v2 only: ACUUtilization (Average) above 90 % of maxACU."
    )
    replica_lag: AlarmOverride | None = Field(
        None, description="With readers only: AuroraReplicaLagMaximum above 1000 ms."
    )
    proxy_borrow_latency: AlarmOverride | None = Field(
        None, description="With the proxy: DatabaseConnectionsBorrowLatency (Average) above 100000 us (100 ms)."
    )
    proxy_auth_failures: AlarmOverride | None = Field(
        None, description="With the proxy: ClientConnectionsSetupFailedAuth (Sum) above 10 in 5 minutes."
    )
    proxy_pinned_connections: AlarmOverride | None = Field(
        None, description="With the proxy: DatabaseConnectionsCurrentlySessionPinned (Maximum) above 20."
    )

    @model_validator(mode="after")
    def _rules(self) -> DatabaseAlarms:
        self._check(DATABASE_ALARMS)
        return self


class TableAlarms(_Alarms):
    """The default alarms of an UpskillTable; name one to change or disable it."""

    read_throttles: AlarmOverride | None = Field(None, description="ReadThrottleEvents (Sum) above 0.")
    write_throttles: AlarmOverride | None = Field(None, description="WriteThrottleEvents (Sum) above 0.")
    system_errors: AlarmOverride | None = Field(
        None,
        description="SystemErrors (Sum) above 0, one alarm per operation (GetItem, PutItem, UpdateItem, "
        "DeleteItem, Query).",
    )
    index_read_throttles: AlarmOverride | None = Field(
        None, description="ReadThrottleEvents (Sum) of each global index above 0, one alarm per index."
    )
    index_write_throttles: AlarmOverride | None = Field(
        None, description="WriteThrottleEvents (Sum) of each global index above 0, one alarm per index."
    )

    @model_validator(mode="after")
    def _rules(self) -> TableAlarms:
        self._check(TABLE_ALARMS)
        return self


Actions = Annotated[list[TopicArn], Field(max_length=MAX_ACTIONS), Unique()]


class DatabaseMonitoring(Model):
    """CloudWatch alarms for the cluster and its proxy; ``{}`` turns the defaults on."""

    actions: Actions = Field(
        default_factory=list,
        description="SNS topic ARNs notified when an alarm fires and when it recovers (at most 5).",
    )
    alarms: DatabaseAlarms = Field(DatabaseAlarms(), description="Per-alarm changes; unnamed alarms keep the defaults.")


class TableMonitoring(Model):
    """CloudWatch alarms for the table and its indexes; ``{}`` turns the defaults on."""

    actions: Actions = Field(
        default_factory=list,
        description="SNS topic ARNs notified when an alarm fires and when it recovers (at most 5).",
    )
    alarms: TableAlarms = Field(TableAlarms(), description="Per-alarm changes; unnamed alarms keep the defaults.")


class AlarmStatus(StatusModel):
    """One alarm of the resource as CloudWatch reports it."""

    name: str = Field(description="The alarm's name.")
    metric: str = Field(description="The metric it watches (e.g. CPUUtilization).")
    state: str = Field(description="OK, ALARM or INSUFFICIENT_DATA.")
