"""``status``'s view of a resource and its screen: what is picked from status, and how it is shown."""

from __future__ import annotations

import argparse
import io
import json
import threading
import time
from typing import Any

import pytest

from upskill_operator.commands.kubeopts import KubeError
from upskill_operator.commands.status import parse_selector, slow_notice, watch
from upskill_operator.commands.status_render import conditions_cell, render_namespace
from upskill_operator.commands.status_view import SCHEMA, document, view

KEYS = {
    "kind", "namespace", "name", "phase", "ready", "terminal", "message", "waitingFor", "conditions",
    "endpoints", "latency", "migrations", "alarms", "secret", "table",
}  # fmt: skip
"""The documented keys of one resource in ``-o json`` (docs/dev.md)."""


def cond(ctype: str, status: str, reason: str = "", message: str = "") -> dict[str, Any]:
    return {"type": ctype, "status": status, "reason": reason, "message": message}


def body(name: str, status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"metadata": {"name": name, "namespace": "ns"}, "spec": spec}
    if status is not None:
        found["status"] = status
    return found


READY_DB = body(
    "auth-db",
    {
        "phase": "Ready",
        "conditions": [
            cond("Ready", "True", "Ready"),
            cond("Synced", "True"),
            cond("Terminal", "False"),
            cond("Recoverable", "False"),
            cond("MigrationsApplied", "True"),
            cond("LatencyWithinSLO", "False", "AboveObjective", "p99 250.0 ms above 100 ms"),
        ],
        "endpoints": {
            "writer": "w.example",
            "reader": "r.example",
            "proxy": "p.example",
            "proxyReadOnly": "ro.example",
        },
        "port": 5432,
        "migrations": {"applied": 3, "latest": "0003_progress"},
        "latency": {"p50Ms": 2.25, "p99Ms": 250.0, "lastProbeTime": "2026-12-02T20:00:00Z"},
    },
    probe={"sloMilliseconds": 100},
    migrations={"set": "betterauth"},
)
SECRET = body(
    "auth-db-url",
    {
        "phase": "Ready",
        "conditions": [cond("Ready", "True"), cond("Synced", "True")],
        "versionId": "0a1b2c3d-0000-4000-8000-000000000001",
        "versionCreatedTime": "2026-12-01T10:00:00Z",
        "lastRotatedTime": "2026-12-01T10:00:00Z",
        "nextRotationTime": "2026-12-31T10:00:00Z",
        "syncedSecretName": "web-env",
        "syncedVersionId": "0a1b2c3d-0000-4000-8000-000000000001",
        "password": "Hunter2-Leaked",
        "value": "Hunter2-Value",
    },
)
WAITING = body(
    "course-db-url",
    {
        "phase": "Creating",
        "message": "waiting",
        "conditions": [
            cond("Ready", "False", "Waiting", "not ready"),
            cond("Synced", "False", "Waiting", "waiting for UpskillDatabase course-db to be Ready"),
        ],
    },
)
TERMINAL = body(
    "bad-table",
    {
        "phase": "Failed",
        "message": "spec.keys: broken",
        "conditions": [cond("Ready", "False"), cond("Terminal", "True", "InvalidSpec", "spec.keys: broken")],
    },
)


def test_a_ready_database_view_carries_endpoints_latency_against_the_objective_and_migrations() -> None:
    found = view("UpskillDatabase", READY_DB)
    assert set(found) == KEYS
    assert found["endpoints"] == {
        "proxy": "p.example", "proxyReadOnly": "ro.example", "writer": "w.example", "reader": "r.example", "port": 5432,
    }  # fmt: skip
    assert found["latency"] == {
        "p50Ms": 2.25, "p99Ms": 250.0, "sloMs": 100, "withinSLO": False, "lastProbeTime": "2026-12-02T20:00:00Z",
    }  # fmt: skip
    assert found["migrations"] == {"applied": 3, "latest": "0003_progress", "done": True}
    assert (found["ready"], found["terminal"], found["waitingFor"]) == ("True", False, None)
    assert found["secret"] is None
    assert found["table"] is None


def test_a_secret_view_shows_versions_and_rotation_and_no_field_it_does_not_name() -> None:
    found = view("UpskillSecret", SECRET)
    assert found["secret"]["versionId"] == "0a1b2c3d-0000-4000-8000-000000000001"
    assert found["secret"]["target"] == "web-env"
    assert found["secret"]["lastRotatedTime"] == "2026-12-01T10:00:00Z"
    text = json.dumps(found) + render_namespace("ns", "ctx", [found])
    assert "Hunter2" not in text


def test_a_waiting_resource_says_what_its_step_waits_for() -> None:
    found = view("UpskillSecret", WAITING)
    assert found["waitingFor"] == "waiting for UpskillDatabase course-db to be Ready"
    screen = render_namespace("ns", "ctx", [found])
    assert "UpskillSecret/course-db-url: waits for: waiting for UpskillDatabase course-db to be Ready" in screen


def test_a_resource_without_status_waits_for_the_operator() -> None:
    found = view("UpskillTable", body("new"))
    assert (found["phase"], found["ready"]) == ("Pending", "Unknown")
    assert found["waitingFor"] == "the operator has not reported on it yet"


def test_a_terminal_resource_shows_its_reason_and_message_not_a_wait() -> None:
    found = view("UpskillTable", TERMINAL)
    assert found["terminal"] is True
    assert found["waitingFor"] is None
    assert "UpskillTable/bad-table: TERMINAL (InvalidSpec): spec.keys: broken" in render_namespace("ns", "c", [found])


def test_conditions_cell_names_only_the_conditions_that_are_wrong() -> None:
    ok = [cond("Ready", "True"), cond("Synced", "True"), cond("Terminal", "False"), cond("Recoverable", "False")]
    assert conditions_cell(ok) == "ok (4)"
    bad = [cond("Ready", "False"), cond("Synced", "False"), cond("Recoverable", "True"), cond("Terminal", "False")]
    assert conditions_cell(bad) == "Synced=False Recoverable=True"
    assert conditions_cell([]) == "-"


MONITORED_TABLE = body(
    "notifications",
    {
        "phase": "Ready",
        "conditions": [cond("Ready", "True"), cond("AlarmsOK", "False", "AlarmFiring", "1 alarm in ALARM")],
        "alarms": [
            {"name": "upskill-ns-notifications-read-throttle", "metric": "ReadThrottleEvents", "state": "ALARM"},
            {"name": "upskill-ns-notifications-write-throttle", "metric": "WriteThrottleEvents", "state": "OK"},
            {"name": "upskill-ns-notifications-errors-0", "metric": "SystemErrors", "state": "INSUFFICIENT_DATA"},
        ],
    },
    monitoring={},
)


def test_a_monitored_resource_shows_its_alarms_by_state_and_the_verdict() -> None:
    found = view("UpskillTable", MONITORED_TABLE)
    assert found["alarms"] == {
        "total": 3, "firing": ["upskill-ns-notifications-read-throttle"], "insufficientData": 1, "ok": False,
    }  # fmt: skip
    screen = render_namespace("ns", "ctx", [found]).splitlines()
    at = screen.index("Alarms (CloudWatch)")
    assert screen[at + 1].split() == ["RESOURCE", "ALARMS", "NO", "DATA", "STATE", "IN", "ALARM"]
    assert screen[at + 2].split() == ["notifications", "3", "1", "FIRING", "upskill-ns-notifications-read-throttle"]


def test_monitoring_asked_for_and_not_yet_reported_shows_no_verdict_and_unmonitored_shows_nothing() -> None:
    pending = view("UpskillDatabase", body("auth-db", {"conditions": [cond("Ready", "False")]}, monitoring={}))
    assert pending["alarms"] == {"total": 0, "firing": [], "insufficientData": 0, "ok": None}
    assert view("UpskillDatabase", READY_DB)["alarms"] is None
    assert view("UpskillSecret", SECRET)["alarms"] is None
    assert "Alarms (CloudWatch)" not in render_namespace("ns", "ctx", [view("UpskillDatabase", READY_DB)])


def test_the_screen_has_one_row_per_resource_and_the_sections_with_content() -> None:
    views = [view("UpskillDatabase", READY_DB), view("UpskillSecret", SECRET), view("UpskillSecret", WAITING)]
    screen = render_namespace("ns", "ctx", views)
    lines = screen.splitlines()
    assert lines[0] == "Namespace ns (context ctx): 3 resources, 2 Ready"
    assert lines[2].split() == ["KIND", "NAME", "READY", "PHASE", "CONDITIONS"]
    assert lines[3].split() == ["UpskillDatabase", "auth-db", "True", "Ready", "LatencyWithinSLO=False"]
    assert any(line.split() == ["auth-db", "proxy", "p.example:5432"] for line in lines)
    assert any(line.split() == ["auth-db", "2.2", "250.0", "100", "ABOVE"] for line in lines)
    assert any(line.split() == ["auth-db", "3", "0003_progress", "applied"] for line in lines)
    secret_row = next(line.split() for line in lines if line.strip().startswith("auth-db-url"))
    assert secret_row[:2] == ["auth-db-url", "0a1b2c3d"]
    assert secret_row[-2:] == ["web-env", "yes"]
    assert {"Endpoints", "Latency (probe)", "Migrations", "Secrets", "Not Ready"} <= set(lines)


def test_a_namespace_without_resources_says_so() -> None:
    assert "no UpskillDatabase, UpskillTable or UpskillSecret" in render_namespace("empty", "ctx", [])


def test_the_json_document_lists_every_namespace_asked_for_even_empty() -> None:
    views = [view("UpskillDatabase", READY_DB)]
    found = document("ctx", views, ["ns", "empty"])
    assert found["apiVersion"] == SCHEMA
    assert [(n["namespace"], len(n["resources"])) for n in found["namespaces"]] == [("empty", 0), ("ns", 1)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("udb/auth-db", ("UpskillDatabase", "auth-db")),
        ("UpskillSecret/x", ("UpskillSecret", "x")),
        ("upskilltables/t", ("UpskillTable", "t")),
        ("usecret", ("UpskillSecret", None)),
        ("auth-db", (None, "auth-db")),
    ],
)
def test_resource_arguments_are_kubectl_style(text: str, expected: tuple[str | None, str | None]) -> None:
    assert parse_selector(text) == expected


@pytest.mark.parametrize("text", ["pod/web", "udb/"])
def test_an_unknown_kind_is_a_usage_error(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_selector(text)


def test_a_slow_fetch_prints_a_progress_line_and_a_fast_one_none() -> None:
    err = io.StringIO()
    with slow_notice(err, "waiting for the API", after=0.0):
        for _ in range(500):  # the block outlasts the notice's delay: it is printed while the block runs
            if err.getvalue():
                break
            time.sleep(0.01)
    assert err.getvalue() == "waiting for the API\n"
    quiet = io.StringIO()
    with slow_notice(quiet, "never", after=60.0):
        pass
    assert quiet.getvalue() == ""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def screens(texts: list[str | Exception]) -> tuple[Any, threading.Event]:
    """A read() giving ``texts`` in turn (raising the exceptions), then stopping the watch."""
    stop = threading.Event()
    pending = list(texts)

    def read() -> str:
        item = pending.pop(0)
        if not pending:
            stop.set()
        if isinstance(item, Exception):
            raise item
        return item

    return read, stop


def test_watch_without_a_terminal_prints_each_screen_that_differs() -> None:
    out, err = io.StringIO(), io.StringIO()
    read, stop = screens(["A", "A", KubeError("cannot reach the Kubernetes API"), "B"])
    assert watch(read, out, err, 0.0, stop) == 0
    assert out.getvalue() == "A\n\nB\n\n"
    assert err.getvalue() == "error: cannot reach the Kubernetes API (retrying every 0s)\n"


def test_watch_on_a_terminal_redraws_the_screen() -> None:
    out = Terminal()
    read, stop = screens(["A", "A"])
    assert watch(read, out, io.StringIO(), 0.0, stop) == 0
    frames = out.getvalue().split("\x1b[H\x1b[2J")
    assert frames[0] == ""
    assert [frame.splitlines()[0] for frame in frames[1:]] == ["A", "A"]
    assert "Ctrl-C to stop" in frames[-1]


def test_watch_of_json_prints_one_document_a_line() -> None:
    out = io.StringIO()
    read, stop = screens(['{"a": 1}', '{"a": 2}'])
    watch(read, out, io.StringIO(), 0.0, stop)
    assert out.getvalue().splitlines() == ['{"a": 1}', '{"a": 2}']
