"""Kubernetes Events end to end: what ``kubectl describe`` shows, posted once per transition.

Events are read back from the emulated API server (core/v1, checked as the real server checks
them) by ``involvedObject``, and, where kubectl is installed, through ``kubectl describe`` itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import pytest

from upskill_sandbox import secrets_extension
from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import NAMESPACE, REGION, Bed, passes_of, wait_for
from e2e.secret_support import PLURAL as SECRETS
from e2e.secret_support import aws_name, deployment, secret_doc, secrets_operator
from e2e.secret_support import ready as secret_ready
from e2e.test_tables import ready, table_doc, unique

pytestmark = pytest.mark.e2e

TABLES = "upskilltables"
MIXED_TYPES = (
    "spec.globalIndexes[0].partition.type: attribute 'pk' is type S in keys.partition; "
    "an attribute has one type (got N)"
)
PROTECTED = (
    "spec.deletionProtection is true: set it to false to let deletionPolicy Delete proceed, "
    "or set deletionPolicy to Retain"
)


def events_of(bed: Bed, kind: str, name: str) -> list[dict[str, Any]]:
    """The Events about one object, oldest first, as ``kubectl describe`` selects them."""
    found = [
        e
        for e in bed.kube.list("v1", "events", NAMESPACE)
        if e["involvedObject"].get("name") == name and e["involvedObject"].get("kind") == kind
    ]
    return sorted(found, key=lambda e: int(e["metadata"]["resourceVersion"]))


def summary(bed: Bed, kind: str, name: str) -> list[tuple[str, str, str]]:
    return [(e["type"], e["reason"], e["message"]) for e in events_of(bed, kind, name)]


def posted(bed: Bed, kind: str, name: str, reason: str, timeout: float = 20) -> list[tuple[str, str, str]]:
    """Wait for an Event with ``reason``; return all the object's events then."""
    return wait_for(
        lambda: (got := summary(bed, kind, name)) and any(r == reason for _, r, _ in got) and got,
        timeout,
        f"a {reason} Event for {name}",
    )


def quiet_over(bed: Bed, name: str, count: int, events: list[tuple[str, str, str]], what: str) -> None:
    """``count`` more passes of a table that end Terminal or blocked post no Event."""
    passes_of(TABLES, name, count, 60)
    assert summary(bed, "UpskillTable", name) == events, what


def resynced(bed: Bed, plural: str, name: str, count: int) -> None:
    """Wait for ``count`` more passes of this object."""
    passes_of(plural, name, count, 60)


def test_a_new_table_posts_created_then_ready_and_a_resync_loop_posts_nothing(
    bed: Bed, operator: OperatorThread
) -> None:
    name = unique("evt")
    bed.apply(table_doc(name))
    ready(bed, name)
    events = posted(bed, "UpskillTable", name, "Ready")
    assert ("Normal", "Created", "table: created") in events
    assert ("Normal", "Created", "connection: created") in events
    assert events[-1] == ("Normal", "Ready", "all AWS objects exist and match the spec")
    assert [r for _, r, _ in events].count("Ready") == 1
    first = events_of(bed, "UpskillTable", name)[0]
    assert first["source"] == {"component": "upskill-operator"}
    assert first["involvedObject"]["uid"] == bed.get(TABLES, name)["metadata"]["uid"]  # type: ignore[index]

    seen = len(events)
    resynced(bed, TABLES, name, 4)
    assert len(events_of(bed, "UpskillTable", name)) == seen, "a resync that changes nothing posts no Event"

    bed.apply(table_doc(name, ttlAttribute="gone"))  # DynamoDB changes TTL in two steps: off, then on
    ready(bed, name)
    changes = wait_for(
        lambda: len(got := summary(bed, "UpskillTable", name)[seen:]) >= 3 and got, 20, "the TTL change's Events"
    )
    assert changes == [
        ("Normal", "Updated", "table: spec.ttlAttribute (disable first)"),
        ("Normal", "Updated", "table: spec.ttlAttribute"),
        ("Normal", "Updated", "connection: data.TTL_ATTRIBUTE"),  # the ConfigMap names the TTL attribute
    ], "Ready all along: no second Ready Event"


def test_a_terminal_spec_posts_one_warning_with_the_reason_and_the_message(bed: Bed, operator: OperatorThread) -> None:
    name = unique("evt-bad")
    bad = [{"name": "byPk", "partition": {"name": "pk", "type": "N"}, "projection": "ALL"}]
    bed.apply(table_doc(name, globalIndexes=bad))
    events = posted(bed, "UpskillTable", name, "InvalidSpec")
    assert events == [("Warning", "InvalidSpec", MIXED_TYPES)]
    quiet_over(bed, name, 3, events, "a Terminal pass again posts nothing new")


def test_deletion_blocked_by_protection_posts_one_warning(bed: Bed, operator: OperatorThread) -> None:
    name = unique("evt-guard")
    bed.apply(table_doc(name, deletionProtection=True, deletionPolicy="Delete"))
    ready(bed, name)
    bed.delete(TABLES, name)
    events = posted(bed, "UpskillTable", name, "DeletionProtected")
    assert [e for e in events if e[1] == "DeletionProtected"] == [("Warning", "DeletionProtected", PROTECTED)]
    quiet_over(bed, name, 2, events, "a refused retry posts nothing new")

    bed.apply(table_doc(name, deletionProtection=False, deletionPolicy="Delete"))
    wait_for(lambda: bed.get(TABLES, name) is None, 30, "deleted once unprotected")
    deleted = ("Normal", "Deleted", "table: deletion requested (deletionPolicy Delete)")
    wait_for(lambda: deleted in summary(bed, "UpskillTable", name), 20, "the table's Deleted Event")  # kopf posts async


def test_a_rotation_posts_the_new_version_and_the_rollout(bed: Bed, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets_extension.install()
    name, env, web = unique("evt-rot"), unique("env"), unique("web")
    with secrets_operator(bed, monkeypatch):
        deployment(bed, web, env, "TOKEN")
        target = {"secretName": env, "key": "TOKEN", "restartOnChange": [{"kind": "Deployment", "name": web}]}
        doc = secret_doc(name, {"generate": {"length": 32}}, rotation={"everyDays": 1}, target=target)
        bed.apply(doc)
        secret_ready(bed, name)
        events = posted(bed, "UpskillSecret", name, "Ready")
        assert ("Normal", "Created", "secret: created") in events
        assert not any(r in ("SecretRotated", "RolloutRestarted") for _, r, _ in events), (
            "the first value rolls nothing"
        )

        secrets_extension.age_versions(aws_name(name), 86400 + 60, region=REGION)
        events = posted(bed, "UpskillSecret", name, "RolloutRestarted")
        status = bed.get(SECRETS, name)["status"]  # type: ignore[index]
        rotated = [m for _, r, m in events if r == "SecretRotated"]
        assert rotated == [f"new version {status['versionId']}: scheduled rotation"]
        rolled = [m for _, r, m in events if r == "RolloutRestarted"]
        assert rolled == [f"Deployment/{web}: restarted for version {status['versionId']}"]


def test_kubectl_describe_shows_the_events(bed: Bed, operator: OperatorThread) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    name = unique("evt-kubectl")
    bed.apply(table_doc(name))
    ready(bed, name)
    posted(bed, "UpskillTable", name, "Ready")
    env = {**os.environ, "KUBECONFIG": bed.settings.kubeconfig or ""}
    described = subprocess.run(
        [kubectl, "describe", "-n", NAMESPACE, "utable", name], capture_output=True, text=True, env=env, timeout=60
    )
    assert described.returncode == 0, described.stderr
    events = described.stdout.split("Events:", 1)[1]
    assert "Created" in events
    assert "table: created" in events
    assert "upskill-operator" in events
    assert "Ready" in events


def test_a_recoverable_failure_posts_one_warning_then_ready(bed: Bed, operator: OperatorThread) -> None:
    name = unique("evt-flaky")
    fault = bed.kube.inject_fault("POST", rf"/namespaces/{NAMESPACE}/configmaps$", status=500, times=2)
    bed.apply(table_doc(name))
    ready(bed, name)
    events = posted(bed, "UpskillTable", name, "Ready")
    assert fault.hits == 2
    warnings = [e for e in events if e[0] == "Warning"]
    assert warnings == [
        (
            "Warning",
            "KubernetesUnavailable",
            f"connection: creating ConfigMap {NAMESPACE}/{name}-table: "
            "Kubernetes API answered 500 Internal Server Error",
        )
    ], "two failed attempts in a row, one Warning"
    assert [r for _, r, _ in events][-2:] == ["Created", "Ready"]
