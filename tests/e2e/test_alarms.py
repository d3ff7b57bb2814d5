"""CloudWatch alarms of spec.monitoring, through the emulators: created, repaired, shown, dropped, deleted.

A table with one global index and ``monitoring: {}`` gets its default alarms (read and write throttles,
SystemErrors per operation, each index's throttles), tagged for it. A threshold changed behind the
operator's back (a console-style PutMetricAlarm) is put back, and the alarm keeps its state. An alarm
driven to ALARM with SetAlarmState shows in ``status.alarms``, turns ``AlarmsOK`` False with its name,
and sets ``upskill_aws_alarm_state``. Disabling a kind deletes its alarms; deleting the resource
deletes the rest. A database gets the cluster's and the proxy's alarms.
"""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY

from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import NAMESPACE, Bed, condition, wait_for
from e2e.db_support import database_operator, db_doc, unique
from e2e.db_support import ready as db_ready
from e2e.test_tables import ready, table_doc

pytestmark = pytest.mark.e2e

TABLE_KINDS = 2 + 5 + 2  # read/write throttles, SystemErrors for five operations, the index's two throttles


def alarms(bed: Bed, prefix: str) -> dict[str, dict[str, Any]]:
    found = bed.boto("cloudwatch").describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]
    return {a["AlarmName"]: a for a in found}


def tags(bed: Bed, arn: str) -> dict[str, str]:
    listed = bed.boto("cloudwatch").list_tags_for_resource(ResourceARN=arn)["Tags"]
    return {t["Key"]: t["Value"] for t in listed}


def gauge(kind: str, name: str, alarm: str, state: str) -> float | None:
    labels = {"kind": kind, "namespace": NAMESPACE, "name": name, "alarm": alarm, "state": state}
    return REGISTRY.get_sample_value("upskill_aws_alarm_state", labels)


def test_table_alarms_created_repaired_shown_dropped_and_deleted(bed: Bed, operator: OperatorThread) -> None:
    name = unique("watched")
    base = f"upskill-{NAMESPACE}-{name}"
    table = f"upskill-{NAMESPACE}-{name}"
    bed.apply(table_doc(name, monitoring={}))
    ready(bed, name)
    found = wait_for(lambda: (a := alarms(bed, f"{base}-")) and len(a) == TABLE_KINDS and a, 30, "alarms")
    read = found[f"{base}-read-throttles"]
    assert read["Namespace"] == "AWS/DynamoDB"
    assert read["MetricName"] == "ReadThrottleEvents"
    assert read["Dimensions"] == [{"Name": "TableName", "Value": table}]
    assert (read["Statistic"], read["Threshold"], read["ComparisonOperator"]) == ("Sum", 0.0, "GreaterThanThreshold")
    index = found[f"{base}-index-write-throttles-byUser"]
    assert {d["Name"]: d["Value"] for d in index["Dimensions"]} == {
        "TableName": table,
        "GlobalSecondaryIndexName": "byUser",
    }
    query = found[f"{base}-system-errors-Query"]
    assert {d["Name"]: d["Value"] for d in query["Dimensions"]} == {"TableName": table, "Operation": "Query"}
    assert tags(bed, read["AlarmArn"])["upskill.io/owner"] == f"{NAMESPACE}/{name}"
    obj = wait_for(lambda: (o := bed.get("upskilltables", name)) and len(o["status"].get("alarms") or []) == 9 and o)
    assert {a["state"] for a in obj["status"]["alarms"]} == {"INSUFFICIENT_DATA"}  # no datapoint yet, as on AWS
    assert condition(obj, "AlarmsOK")["status"] == "True"

    cw = bed.boto("cloudwatch")
    cw.set_alarm_state(AlarmName=read["AlarmName"], StateValue="ALARM", StateReason="test: throttled")
    console = {k: read[k] for k in ("AlarmName", "MetricName", "Namespace", "Statistic", "Period", "EvaluationPeriods")}
    cw.put_metric_alarm(
        **console, Dimensions=read["Dimensions"], ComparisonOperator="GreaterThanThreshold", Threshold=500.0
    )
    repaired = wait_for(lambda: alarms(bed, read["AlarmName"])[read["AlarmName"]]["Threshold"] == 0.0, 20, "repair")
    assert repaired
    after = alarms(bed, read["AlarmName"])[read["AlarmName"]]
    assert after["StateValue"] == "ALARM"  # the repair put the configuration back, not the state
    assert after["TreatMissingData"] == "notBreaching"
    assert after["DatapointsToAlarm"] == 1

    firing = wait_for(
        lambda: (o := bed.get("upskilltables", name)) and condition(o, "AlarmsOK").get("status") == "False" and o,
        20,
        "AlarmsOK False",
    )
    cond = condition(firing, "AlarmsOK")
    assert cond["reason"] == "AlarmFiring"
    assert read["AlarmName"] in cond["message"]
    shown = {a["name"]: a for a in firing["status"]["alarms"]}
    assert shown[read["AlarmName"]] == {"name": read["AlarmName"], "metric": "ReadThrottleEvents", "state": "ALARM"}
    assert gauge("UpskillTable", name, read["AlarmName"], "ALARM") == 1.0
    assert gauge("UpskillTable", name, read["AlarmName"], "OK") == 0.0

    spec = table_doc(
        name, monitoring={"alarms": {"systemErrors": {"enabled": False}, "readThrottles": {"threshold": 5}}}
    )
    bed.apply(spec)
    wait_for(lambda: len(alarms(bed, f"{base}-")) == TABLE_KINDS - 5, 30, "SystemErrors alarms deleted")
    assert alarms(bed, read["AlarmName"])[read["AlarmName"]]["Threshold"] == 5.0
    wait_for(lambda: gauge("UpskillTable", name, f"{base}-system-errors-Query", "INSUFFICIENT_DATA") is None, 20)

    bed.delete("upskilltables", name)
    wait_for(lambda: bed.get("upskilltables", name) is None, 30, "table deleted")
    assert alarms(bed, f"{base}-") == {}
    assert gauge("UpskillTable", name, read["AlarmName"], "ALARM") is None


def test_retain_keeps_the_alarms(bed: Bed, operator: OperatorThread) -> None:
    name = unique("kept")
    base = f"upskill-{NAMESPACE}-{name}"
    bed.apply(table_doc(name, monitoring={"alarms": {"systemErrors": {"enabled": False}}}, deletionPolicy="Retain"))
    ready(bed, name)
    wait_for(lambda: len(alarms(bed, f"{base}-")) == 4, 30, "alarms")
    bed.delete("upskilltables", name)
    wait_for(lambda: bed.get("upskilltables", name) is None, 30, "resource deleted")
    assert len(alarms(bed, f"{base}-")) == 4
    cw = bed.boto("cloudwatch")
    cw.delete_alarms(AlarmNames=list(alarms(bed, f"{base}-")))
    bed.boto("dynamodb").delete_table(TableName=base)


def test_foreign_alarm_under_a_wanted_name_is_never_touched(bed: Bed, operator: OperatorThread) -> None:
    name = unique("rival")
    base = f"upskill-{NAMESPACE}-{name}"
    cw = bed.boto("cloudwatch")
    foreign = {
        "AlarmName": f"{base}-read-throttles",
        "MetricName": "Other",
        "Namespace": "Team/B",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "Tags": [{"Key": "upskill.io/owner", "Value": "team-b/other"}],
    }
    cw.put_metric_alarm(**foreign)
    bed.apply(table_doc(name, monitoring={}))
    obj = wait_for(
        lambda: (o := bed.get("upskilltables", name)) and condition(o, "Terminal").get("status") == "True" and o, 30
    )
    assert condition(obj, "Terminal")["reason"] == "ForeignOwner"
    assert "spec.monitoring" in condition(obj, "Terminal")["message"]
    assert alarms(bed, foreign["AlarmName"])[foreign["AlarmName"]]["MetricName"] == "Other"
    bed.apply(table_doc(name, monitoring=None))  # monitoring off: the foreign alarm is not ours to delete
    ready(bed, name)
    assert foreign["AlarmName"] in alarms(bed, f"{base}-")
    bed.delete("upskilltables", name)
    wait_for(lambda: bed.get("upskilltables", name) is None, 30, "deleted")
    assert foreign["AlarmName"] in alarms(bed, f"{base}-")
    cw.delete_alarms(AlarmNames=[foreign["AlarmName"]])


def test_database_alarms_watch_the_cluster_and_the_proxy(bed: Bed) -> None:
    with database_operator(bed, pending=0):
        name = unique("mon")
        bed.apply(db_doc("auth", name, monitoring={"alarms": {"cpu": {"threshold": 70, "period": 60}}}))
        db_ready(bed, name)
        obj = bed.get("upskilldatabases", name) or {}
        cluster = obj["status"]["clusterIdentifier"]
        base = f"upskill-{NAMESPACE}-{name}"
        found = wait_for(lambda: (a := alarms(bed, f"{base}-")) and len(a) >= 7 and a, 30, "database alarms")
        cpu = found[f"{base}-cpu"]
        assert (cpu["Namespace"], cpu["MetricName"], cpu["Threshold"], cpu["Period"]) == (
            "AWS/RDS",
            "CPUUtilization",
            70.0,
            60,
        )
        assert cpu["Dimensions"] == [{"Name": "DBClusterIdentifier", "Value": cluster}]
        borrow = found[f"{base}-proxy-borrow-latency"]
        assert borrow["MetricName"] == "DatabaseConnectionsBorrowLatency"
        assert borrow["Threshold"] == 100_000.0
        assert borrow["Dimensions"][0]["Name"] == "ProxyName"
        assert f"{base}-acu-utilization" in found  # auth-db is Serverless v2
        bed.delete("upskilldatabases", name)
        wait_for(lambda: bed.get("upskilldatabases", name) is None, 60, "database deleted")
        assert alarms(bed, f"{base}-") == {}


def test_dropping_monitoring_deletes_the_alarms_and_the_condition(bed: Bed, operator: OperatorThread) -> None:
    name = unique("unwatched")
    base = f"upskill-{NAMESPACE}-{name}"
    bed.apply(table_doc(name, globalIndexes=[], monitoring={"alarms": {"systemErrors": {"enabled": False}}}))
    ready(bed, name)
    wait_for(lambda: len(alarms(bed, f"{base}-")) == 2, 30, "alarms")
    wait_for(lambda: condition(bed.get("upskilltables", name), "AlarmsOK").get("status") == "True", 20)
    bed.apply(table_doc(name, globalIndexes=[], monitoring=None))
    wait_for(lambda: alarms(bed, f"{base}-") == {}, 30, "alarms deleted with spec.monitoring")
    obj = wait_for(lambda: (o := bed.get("upskilltables", name)) and not o["status"].get("alarms") and o, 20)
    assert condition(obj, "AlarmsOK") == {}
    bed.delete("upskilltables", name)
    wait_for(lambda: bed.get("upskilltables", name) is None, 30, "deleted")
