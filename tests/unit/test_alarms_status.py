"""AlarmsOK and upskill_aws_alarm_state from the alarms a pass published."""

from __future__ import annotations

from prometheus_client import REGISTRY

from upskill_operator import metrics
from upskill_operator.reconcile.conditions import ALARMS_OK, alarms_ok

NOW, LATER = "2026-12-03T06:00:00Z", "2026-12-03T06:05:00Z"
CPU = {"name": "upskill-ns-db-cpu", "metric": "CPUUtilization", "state": "OK"}
LAG = {"name": "upskill-ns-db-replica-lag", "metric": "AuroraReplicaLagMaximum", "state": "INSUFFICIENT_DATA"}


def only(conditions: list[dict[str, object]]) -> dict[str, object]:
    (found,) = [c for c in conditions if c["type"] == ALARMS_OK]
    return found


def test_alarms_ok_true_while_none_fires_and_false_naming_the_ones_that_do() -> None:
    calm = only(alarms_ok([], [CPU, LAG], NOW, 3))
    assert (calm["status"], calm["reason"], calm["observedGeneration"]) == ("True", "NoAlarmFiring", 3)
    assert "1 without enough data yet" in str(calm["message"])
    firing = only(alarms_ok([calm], [{**CPU, "state": "ALARM"}, LAG], LATER, 3))
    assert (firing["status"], firing["reason"]) == ("False", "AlarmFiring")
    assert firing["message"] == "in ALARM: upskill-ns-db-cpu"
    assert firing["lastTransitionTime"] == LATER
    again = only(alarms_ok([firing], [{**CPU, "state": "ALARM"}, LAG], "2026-12-03T07:00:00Z", 3))
    assert again == firing  # no transition, no change: nothing to write


def test_alarms_ok_goes_with_the_alarms() -> None:
    other = {"type": "Ready", "status": "True"}
    kept = alarms_ok([other, only(alarms_ok([], [CPU], NOW, 1))], None, LATER, 1)
    assert kept == [other]
    assert alarms_ok([other], [], LATER, 1) == [other]


def sample(alarm: str, state: str) -> float | None:
    labels = {"kind": "UpskillDatabase", "namespace": "ns", "name": "db", "alarm": alarm, "state": state}
    return REGISTRY.get_sample_value("upskill_aws_alarm_state", labels)


def test_the_gauge_shows_each_state_and_drops_alarms_that_went() -> None:
    metrics.set_alarm_states("UpskillDatabase", "ns", "db", [{**CPU, "state": "ALARM"}, LAG])
    assert sample(CPU["name"], "ALARM") == 1.0
    assert sample(CPU["name"], "OK") == 0.0
    assert sample(LAG["name"], "INSUFFICIENT_DATA") == 1.0
    metrics.set_alarm_states("UpskillDatabase", "ns", "db", [CPU])
    assert sample(CPU["name"], "OK") == 1.0
    assert sample(LAG["name"], "INSUFFICIENT_DATA") is None
    metrics.forget_resource("UpskillDatabase", "ns", "db")
    assert sample(CPU["name"], "OK") is None
