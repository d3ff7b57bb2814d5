"""Our CloudWatch extension of moto 5.2.5, for the tests: AWS's PutMetricAlarm where moto's is lenient.

:func:`install` replaces moto's ``CloudWatchBackend.put_metric_alarm`` in this process, so the moto
server (a thread of the test process) answers as AWS does; requests still go through botocore's
serialisation, moto's HTTP dispatch and botocore's response parsing. The operator never imports this
module.

What is emulated, exactly (measured against moto 5.2.5, which accepted or did otherwise):

- **A new alarm starts in INSUFFICIENT_DATA** ("Unchecked: Initial alarm creation"), as on AWS; moto
  started it in OK, which would hide an alarm that never received data.
- **Updating an alarm keeps its state**: AWS's PutMetricAlarm on an existing alarm overwrites the
  configuration and leaves the state unchanged; moto built a new alarm in OK, so a drift repair would
  have silently cleared an ALARM.
- **Tags on an update are ignored**, as AWS documents for PutMetricAlarm on an existing alarm (tags
  change through TagResource only); moto merged them.
- **Validation AWS does and moto did not** (ValidationError, nothing stored): ``Period`` 10, 20, 30 or a
  multiple of 60; ``Statistic`` one of SampleCount, Average, Sum, Minimum, Maximum, and exactly one of
  ``Statistic`` and ``ExtendedStatistic`` for a single-metric alarm; ``AlarmName`` 1-255 characters;
  ``DatapointsToAlarm`` at most ``EvaluationPeriods``; ``Period`` x ``EvaluationPeriods`` at most one day
  below an hour's period, seven days otherwise.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.models import CloudWatchBackend

__all__ = ["install", "problems"]

STATISTICS = frozenset({"SampleCount", "Average", "Sum", "Minimum", "Maximum"})
_LOCK = threading.Lock()
_installed = False
_original = CloudWatchBackend.put_metric_alarm


def problems(name: str, period: int | None, evaluation_periods: int, kwargs: dict[str, Any]) -> list[str]:
    """What AWS refuses in a PutMetricAlarm (the rules above); empty when it is accepted."""
    found: list[str] = []
    if not 1 <= len(name) <= 255:
        found.append(f"AlarmName must be 1-255 characters (got {len(name)})")
    statistic, extended = kwargs.get("statistic"), kwargs.get("extended_statistic")
    single = not kwargs.get("metric_data_queries")
    if single and bool(statistic) == bool(extended):
        found.append("exactly one of Statistic and ExtendedStatistic must be given")
    if statistic and statistic not in STATISTICS:
        found.append(f"Statistic must be one of {', '.join(sorted(STATISTICS))} (got {statistic})")
    if single and period is not None:
        if period not in (10, 20, 30) and period % 60:
            found.append(f"Period must be 10, 20, 30 or a multiple of 60 (got {period})")
        limit = 86_400 if period < 3600 else 604_800
        if period * evaluation_periods > limit:
            found.append(f"Period x EvaluationPeriods must be at most {limit} seconds")
    datapoints = kwargs.get("datapoints_to_alarm")
    if datapoints is not None and datapoints > evaluation_periods:
        found.append("DatapointsToAlarm must be at most EvaluationPeriods")
    return found


def _put_metric_alarm(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    period, evaluation_periods = kwargs.get("period"), int(kwargs.get("evaluation_periods") or 1)
    refused = problems(name, period, evaluation_periods, kwargs)
    if refused:
        raise ValidationError("; ".join(refused))
    before = self.alarms.get(name)
    if before is not None:
        kwargs["tags"] = None  # AWS ignores Tags when PutMetricAlarm updates an existing alarm
    alarm = _original(self, name, *args, **kwargs)
    if before is None:
        alarm.state_value = "INSUFFICIENT_DATA"
    else:
        alarm.state_value = before.state_value
        alarm.state_reason = before.state_reason
        alarm.state_reason_data = before.state_reason_data
        alarm.state_updated_timestamp = before.state_updated_timestamp
        alarm.history = getattr(before, "history", [])
    return alarm


def install() -> None:
    """Patch moto's CloudWatch backend in this process (idempotent)."""
    global _installed
    with _LOCK:
        if _installed:
            return
        CloudWatchBackend.put_metric_alarm = _put_metric_alarm  # type: ignore[method-assign]
        _installed = True
