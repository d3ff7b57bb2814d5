"""The emulator checks core/v1 Events as the real API server does (legacyValidateEvent)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from upskill_sandbox.kube import KubeServer

from testbed.kube_support import http

EVENTS = "/api/v1/namespaces/{ns}/events"
NOW = "2026-01-01T00:00:00.000000Z"


@pytest.fixture
def kube() -> Iterator[KubeServer]:
    with KubeServer() as server:
        server.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
        yield server


def _event(**overrides: Any) -> dict[str, Any]:
    """An Event as kopf posts it (eventTime, reporting fields, action)."""
    event: dict[str, Any] = {
        "metadata": {"generateName": "upskill-operator-"},
        "involvedObject": {
            "apiVersion": "upskill.io/v1alpha1",
            "kind": "UpskillTable",
            "name": "t",
            "namespace": "team",
        },
        "type": "Normal",
        "reason": "Created",
        "message": "table: created",
        "action": "Action?",
        "reportingComponent": "upskill-operator",
        "reportingInstance": "operator-0",
        "source": {"component": "upskill-operator"},
        "firstTimestamp": NOW,
        "lastTimestamp": NOW,
        "eventTime": NOW,
    }
    event.update(overrides)
    return event


def _post(kube: KubeServer, event: dict[str, Any], ns: str = "team") -> tuple[int, Any]:
    status, body, _ = http(kube, "POST", EVENTS.format(ns=ns), event)
    return status, body


def _causes(body: Any) -> list[tuple[str, str]]:
    return [(c["field"], c["message"]) for c in body["details"]["causes"]]


def test_a_kopf_style_event_is_stored_and_found_by_involved_object(kube: KubeServer) -> None:
    status, stored = _post(kube, _event())
    assert status == 201
    assert stored["metadata"]["name"].startswith("upskill-operator-")
    query = "?fieldSelector=involvedObject.name%3Dt,involvedObject.kind%3DUpskillTable"
    _, listed, _ = http(kube, "GET", EVENTS.format(ns="team") + query)
    assert [e["reason"] for e in listed["items"]] == ["Created"]


@pytest.mark.parametrize(
    ("overrides", "ns", "want"),
    [
        pytest.param(
            {"involvedObject": {"kind": "UpskillTable", "name": "t"}},
            "team",
            ("involvedObject.namespace", 'Invalid value: "": does not match event.namespace'),
            id="NoInvolvedNamespaceOutsideDefault",
        ),
        pytest.param({"reportingComponent": ""}, "team", ("reportingComponent", "Required value"), id="NoComponent"),
        pytest.param({"action": ""}, "team", ("action", "Required value"), id="NoAction"),
        pytest.param({"reportingInstance": ""}, "team", ("reportingInstance", "Required value"), id="NoInstance"),
        pytest.param(
            {"reason": "R" * 129}, "team", ("reason", 'Invalid value: "": can have at most 128 characters'), id="Reason"
        ),
        pytest.param(
            {"message": "é" * 513},
            "team",
            ("message", 'Invalid value: "": can have at most 1024 characters'),
            id="MessageBytesNotCharacters",
        ),
        pytest.param(
            {"message": "m" * 1025},
            "team",
            ("message", 'Invalid value: "": can have at most 1024 characters'),
            id="LongMessage",
        ),
    ],
)
def test_an_invalid_event_is_refused_with_the_field(
    kube: KubeServer, overrides: dict[str, Any], ns: str, want: tuple[str, str]
) -> None:
    status, body = _post(kube, _event(**overrides), ns)
    assert (status, body["reason"]) == (422, "Invalid")
    assert want in _causes(body)


def test_old_style_events_only_need_matching_namespaces(kube: KubeServer) -> None:
    old = {k: v for k, v in _event().items() if k not in ("eventTime", "action", "reportingComponent")}
    assert _post(kube, {**old, "reason": "R" * 200})[0] == 201, "no length checks without eventTime"
    mismatch = {**old, "involvedObject": {"kind": "ConfigMap", "name": "c", "namespace": "team"}}
    assert _post(kube, mismatch, "default")[0] == 422
    cluster_scoped = {**old, "involvedObject": {"kind": "Node", "name": "n"}}
    assert _post(kube, cluster_scoped, "default")[0] == 201


def test_generate_name_keeps_58_characters_of_the_prefix(kube: KubeServer) -> None:
    status, stored = _post(kube, _event(metadata={"generateName": "x" * 70 + "."}))
    assert status == 201
    assert stored["metadata"]["name"].startswith("x" * 58)
    assert len(stored["metadata"]["name"]) == 63
