"""The alarm planner: names within CloudWatch's limit, defaults and overrides, drift on managed fields only,
and the order of writes (tags, then puts, then one delete)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from upskill_operator.adapters.shared.alarm_plan import (
    MAX_NAME,
    AlarmSource,
    alarm_name,
    candidates,
    definitions,
    differences,
    next_step,
)
from upskill_operator.aws.cloudwatch import ObservedAlarm
from upskill_operator.models.monitoring import DATABASE_ALARMS, TABLE_ALARMS, AlarmOverride, TableMonitoring

BASE = "upskill-team-notes"
READ = AlarmSource("readThrottles", TABLE_ALARMS["readThrottles"], (("TableName", BASE),))
QUERY_ERRORS = AlarmSource(
    "systemErrors", TABLE_ALARMS["systemErrors"], (("TableName", BASE), ("Operation", "Query")), "Query"
)
TOPIC = "arn:aws:sns:eu-west-1:111122223333:oncall"


def observed(definition_name: str, **changes: object) -> ObservedAlarm:
    (wanted,) = [d for d in definitions(BASE, [READ, QUERY_ERRORS], {}, ()) if d.name == definition_name]
    return ObservedAlarm(
        f"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:{definition_name}", "OK", replace(wanted, **changes)
    )  # type: ignore[arg-type]


def test_names_are_deterministic_and_fit_cloudwatchs_limit() -> None:
    assert alarm_name(BASE, "read-throttles") == "upskill-team-notes-read-throttles"
    assert alarm_name(BASE, "index-read-throttles", "byUser") == "upskill-team-notes-index-read-throttles-byUser"
    long_index = "i" * 255
    first, second = (
        alarm_name(BASE, "index-read-throttles", long_index),
        alarm_name(BASE, "index-read-throttles", long_index + "x"),
    )
    assert len(first) == MAX_NAME
    assert len(second) == MAX_NAME
    assert first != second  # the hash of the whole name keeps two long names apart
    assert first == alarm_name(BASE, "index-read-throttles", long_index)


def test_defaults_with_overrides_and_disabled_kinds() -> None:
    overrides = TableMonitoring.model_validate(
        {
            "alarms": {
                "readThrottles": {"threshold": 5, "period": 120, "evaluationPeriods": 4},
                "systemErrors": {"enabled": False},
            }
        }
    ).alarms.overrides()
    (read,) = definitions(BASE, [READ, QUERY_ERRORS], overrides, [TOPIC])
    assert (read.name, read.metric, read.namespace, read.statistic) == (
        f"{BASE}-read-throttles",
        "ReadThrottleEvents",
        "AWS/DynamoDB",
        "Sum",
    )
    assert (read.threshold, read.period, read.evaluation_periods, read.datapoints_to_alarm) == (5.0, 120, 4, 1)
    assert read.actions == (TOPIC,)
    assert read.ok_actions == (TOPIC,)
    assert read.treat_missing_data == "notBreaching"


def test_the_proxy_latency_default_is_the_100_ms_objective_in_microseconds() -> None:
    borrow = DATABASE_ALARMS["proxyBorrowLatency"]
    assert (borrow.metric, borrow.unit, borrow.threshold) == (
        "DatabaseConnectionsBorrowLatency",
        "microseconds",
        100_000,
    )
    assert DATABASE_ALARMS["freeableMemory"].comparison == "LessThanThreshold"


def test_candidates_are_only_names_this_resources_kinds_give() -> None:
    names = [
        f"{BASE}-read-throttles",
        f"{BASE}-system-errors-Query",
        f"{BASE}-x-read-throttles",  # resource notes-x of the same namespace shares the prefix
        f"{BASE}-read-throttles-extra",  # not an indexed kind
    ]
    found = candidates(BASE, names, ["read-throttles"], ["system-errors"])
    assert found == [f"{BASE}-read-throttles", f"{BASE}-system-errors-Query"]


def test_drift_compares_only_managed_fields() -> None:
    wanted = definitions(BASE, [READ], {}, ())[0]
    assert differences(wanted, wanted) == ()
    assert differences(wanted, replace(wanted, threshold=500.0)) == ("threshold",)
    assert differences(wanted, replace(wanted, actions=(TOPIC,), period=60)) == ("period", "actions")


def test_steady_state_plans_nothing() -> None:
    wanted = definitions(BASE, [READ, QUERY_ERRORS], {}, ())
    ours = {d.name: observed(d.name) for d in wanted}
    assert next_step(wanted, ours, {}) == ((), [])


@pytest.mark.parametrize("state", ["OK", "ALARM", "INSUFFICIENT_DATA"])
def test_the_state_is_never_drift(state: str) -> None:
    wanted = definitions(BASE, [READ], {}, ())
    alarm = replace(observed(wanted[0].name), state=state)
    assert next_step(wanted, {alarm.definition.name: alarm}, {}) == ((), [])


def test_writes_come_tags_first_then_puts_then_one_delete() -> None:
    wanted = definitions(BASE, [READ, QUERY_ERRORS], {}, ())
    untagged = {wanted[1].name: observed(wanted[1].name)}
    stale = observed(wanted[0].name, threshold=500.0)
    gone_from_spec = ObservedAlarm("arn:x:alarm:old", "OK", replace(wanted[0], name=f"{BASE}-write-throttles"))
    ours = {stale.definition.name: stale, gone_from_spec.definition.name: gone_from_spec}
    diff, steps = next_step(wanted, ours, untagged)
    assert [s.verb for s in steps] == ["tag", "put", "delete"]
    assert steps[1].alarm == wanted[0]
    assert steps[2].names == (f"{BASE}-write-throttles",)
    assert diff[1] == f"alarms[{BASE}-read-throttles].threshold"


def test_a_missing_alarm_is_created() -> None:
    wanted = definitions(BASE, [READ, QUERY_ERRORS], {}, ())
    diff, steps = next_step(wanted, {wanted[0].name: observed(wanted[0].name)}, {})
    assert [(s.verb, s.alarm) for s in steps] == [("create", wanted[1])]
    assert diff == (f"alarms[{wanted[1].name}]",)


def test_an_override_left_unset_keeps_the_default() -> None:
    assert AlarmOverride().enabled is True
    (read,) = definitions(BASE, [READ], {"readThrottles": AlarmOverride()}, ())
    assert read == definitions(BASE, [READ], {}, ())[0]
