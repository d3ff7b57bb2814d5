"""The forwarder pod manifest: valid, locked down, bounded in time and resources; the forward routes."""

from __future__ import annotations

import argparse

import kubernetes_validate
import pytest

from upskill_operator.commands.connect_endpoints import Endpoint
from upskill_operator.commands.connect_forward import parse_route
from upskill_operator.commands.connect_pod import FIRST_PORT, forwarder_pod, routes_for

ENDPOINTS = [Endpoint("a.proxy-x.us-east-1.rds.amazonaws.com", 5432), Endpoint("b.proxy-x.rds.amazonaws.com", 6432)]


def _pod() -> dict[str, object]:
    return forwarder_pod("upskill", "registry.example/upskill-operator:0.1.0", routes_for(ENDPOINTS), 3600)


def test_the_manifest_validates_against_the_kubernetes_schema() -> None:
    kubernetes_validate.validate(_pod(), "1.32", strict=True)


def test_non_root_read_only_no_capabilities_no_token() -> None:
    spec = _pod()["spec"]
    assert isinstance(spec, dict)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    (container,) = spec["containers"]
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}


def test_limits_deadline_and_no_restart() -> None:
    spec = _pod()["spec"]
    assert isinstance(spec, dict)
    assert spec["activeDeadlineSeconds"] == 3600, "a pod connect never deleted ends on its own"
    assert spec["restartPolicy"] == "Never"
    resources = spec["containers"][0]["resources"]
    assert set(resources["limits"]) == {"cpu", "memory"}
    assert set(resources["requests"]) == {"cpu", "memory"}


def test_the_container_runs_forward_with_one_route_per_endpoint() -> None:
    spec = _pod()["spec"]
    assert isinstance(spec, dict)
    container = spec["containers"][0]
    assert container["command"] == ["upskill-operator"]
    args = container["args"]
    assert args[0] == "forward"
    routes = [parse_route(a) for a in args[2::2]]
    assert routes == [(FIRST_PORT, ENDPOINTS[0].host, 5432), (FIRST_PORT + 1, ENDPOINTS[1].host, 6432)]
    assert [p["containerPort"] for p in container["ports"]] == [FIRST_PORT, FIRST_PORT + 1]


def test_each_pod_has_its_own_name() -> None:
    first, second = _pod()["metadata"], _pod()["metadata"]
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    assert first["name"] != second["name"]
    assert str(first["name"]).startswith("upskill-connect-")


@pytest.mark.parametrize("text", ["15432", "15432=host", "x=host:1", "15432=:5432", "15432=host:port"])
def test_a_bad_route_is_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_route(text)
