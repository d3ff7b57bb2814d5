"""The default CloudWatch alarms of each kind, and the shape of one alarm as the operator puts it.

Metric names, namespaces, dimensions, statistics and units are those of each service's CloudWatch
documentation: Aurora publishes cluster metrics under ``AWS/RDS`` with ``DBClusterIdentifier``
(ACUUtilization in percent of the maximum ACU, AuroraReplicaLagMaximum in milliseconds), RDS Proxy under
``AWS/RDS`` with ``ProxyName`` (DatabaseConnectionsBorrowLatency in microseconds), DynamoDB under
``AWS/DynamoDB`` with ``TableName`` (plus ``GlobalSecondaryIndexName`` for an index; SystemErrors is
published per ``Operation``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DATABASE_ALARMS", "TABLE_ALARMS", "AlarmDefault", "AlarmDefinition"]


@dataclass(frozen=True)
class AlarmDefinition:
    """One metric alarm, exactly as we put it: the fields compared for drift (name, metric, statistic,
    comparison, threshold, period, evaluation, datapoints, missing data, actions, description)."""

    name: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    comparison: str
    threshold: float
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str = "missing"
    actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class AlarmDefault:
    """A kind's default alarm: the metric, how it is judged, and the threshold's sensible range."""

    slug: str
    """The kind in the alarm's name (``<prefix>-<namespace>-<name>-<slug>[-<index>]``)."""
    namespace: str
    metric: str
    statistic: str
    comparison: str
    threshold: float
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    unit: str
    """How the threshold is measured (for messages and docs)."""
    high: float
    """The largest threshold accepted (100 for percentages)."""
    treat_missing_data: str = "missing"


def _default(
    slug: str, namespace: str, metric: str, statistic: str, threshold: float, unit: str, **kw: object
) -> AlarmDefault:
    values: dict[str, object] = {
        "comparison": "GreaterThanThreshold",
        "period": 300,
        "evaluation_periods": 3,
        "datapoints_to_alarm": 3,
        "high": 100.0 if unit == "percent" else 1e15,
        **kw,
    }
    return AlarmDefault(slug, namespace, metric, statistic, threshold=threshold, unit=unit, **values)  # type: ignore[arg-type]


DATABASE_ALARMS: dict[str, AlarmDefault] = {
    "cpu": _default("cpu", "AWS/RDS", "CPUUtilization", "Average", 80, "percent"),
    "connections": _default("connections", "AWS/RDS", "DatabaseConnections", "Maximum", 400, "connections"),
    "freeableMemory": _default(
        "freeable-memory", "AWS/RDS", "FreeableMemory", "Minimum", 268_435_456, "bytes", comparison="LessThanThreshold"
    ),
    "acuUtilization": _default("acu-utilization", "AWS/RDS", "ACUUtilization", "Average", 90, "percent"),
    "replicaLag": _default(
        "replica-lag",
        "AWS/RDS",
        "AuroraReplicaLagMaximum",
        "Maximum",
        1000,
        "milliseconds",
        period=60,
        evaluation_periods=5,
        datapoints_to_alarm=5,
    ),
    "proxyBorrowLatency": _default(
        "proxy-borrow-latency",
        "AWS/RDS",
        "DatabaseConnectionsBorrowLatency",
        "Average",
        100_000,
        "microseconds",
        period=60,
        evaluation_periods=5,
        datapoints_to_alarm=3,
    ),
    "proxyAuthFailures": _default(
        "proxy-auth-failures",
        "AWS/RDS",
        "ClientConnectionsSetupFailedAuth",
        "Sum",
        10,
        "connections",
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="notBreaching",
    ),
    "proxyPinnedConnections": _default(
        "proxy-pinned-connections",
        "AWS/RDS",
        "DatabaseConnectionsCurrentlySessionPinned",
        "Maximum",
        20,
        "connections",
    ),
}
"""Aurora (DBClusterIdentifier; acuUtilization for Serverless v2, replicaLag when readers exist) and
RDS Proxy (ProxyName; when the proxy is enabled)."""

_THROTTLES: dict[str, object] = {
    "evaluation_periods": 1,
    "datapoints_to_alarm": 1,
    "treat_missing_data": "notBreaching",
}
TABLE_ALARMS: dict[str, AlarmDefault] = {
    "readThrottles": _default("read-throttles", "AWS/DynamoDB", "ReadThrottleEvents", "Sum", 0, "events", **_THROTTLES),
    "writeThrottles": _default(
        "write-throttles", "AWS/DynamoDB", "WriteThrottleEvents", "Sum", 0, "events", **_THROTTLES
    ),
    "systemErrors": _default("system-errors", "AWS/DynamoDB", "SystemErrors", "Sum", 0, "errors", **_THROTTLES),
    "indexReadThrottles": _default(
        "index-read-throttles", "AWS/DynamoDB", "ReadThrottleEvents", "Sum", 0, "events", **_THROTTLES
    ),
    "indexWriteThrottles": _default(
        "index-write-throttles", "AWS/DynamoDB", "WriteThrottleEvents", "Sum", 0, "events", **_THROTTLES
    ),
}
"""DynamoDB (TableName; systemErrors one alarm per operation, the index kinds one alarm per GSI)."""
