"""The crash switch itself: it records writes on both channels, kills at the armed one, and revives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from upskill_operator.aws.session import AwsClients
from upskill_operator.config import AwsSettings
from upskill_sandbox.crash import CrashSwitch, OperatorKilled, Step
from upskill_sandbox.kube import KubeApiError

from faults.crash_runner import REGION, CrashBed

pytestmark = pytest.mark.e2e


def configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}, "data": {}}


@pytest.fixture
def switch(crash_bed: CrashBed) -> Iterator[CrashSwitch]:
    yield crash_bed.switch
    crash_bed.switch.revive()


def test_a_kill_lets_the_armed_step_through_and_nothing_after_it(crash_bed: CrashBed, switch: CrashSwitch) -> None:
    settings = AwsSettings(endpoint_url=crash_bed.aws.url, region=REGION, max_attempts=1, calls_per_second={})
    iam = AwsClients(settings, attempts=crash_bed.hooks.attempts).client("iam")  # as the operators get them
    switch.arm(1)
    iam.list_roles()  # a read: not a step
    iam.create_role(RoleName="crash-switch-a", AssumeRolePolicyDocument="{}")  # step 0
    crash_bed.kube.apply_manifest(configmap("crash-switch-a"))  # step 1: the kill
    assert switch.killed.is_set()
    assert switch.steps == [Step("aws", "iam", "CreateRole"), Step("kube", "configmaps", "ADDED")]
    assert crash_bed.kube.get("v1", "configmaps", "default", "crash-switch-a") is not None  # the step landed

    with pytest.raises(OperatorKilled):
        iam.create_role(RoleName="crash-switch-b", AssumeRolePolicyDocument="{}")
    with pytest.raises(KubeApiError):
        crash_bed.kube.apply_manifest(configmap("crash-switch-b"))
    assert crash_bed.kube.get("v1", "configmaps", "default", "crash-switch-b") is None
    assert "crash-switch-b" not in [r["RoleName"] for r in crash_bed.clients.iam.list_roles()["Roles"]]

    switch.revive()
    crash_bed.kube.apply_manifest(configmap("crash-switch-b"))
    iam.create_role(RoleName="crash-switch-b", AssumeRolePolicyDocument="{}")
    assert crash_bed.kube.get("v1", "configmaps", "default", "crash-switch-b") is not None


def test_unarmed_it_only_records(crash_bed: CrashBed, switch: CrashSwitch) -> None:
    switch.arm(None)
    crash_bed.kube.apply_manifest(configmap("crash-switch-c"))
    crash_bed.kube.apply_manifest({**configmap("crash-switch-c"), "data": {"k": "v"}})
    assert switch.steps == [Step("kube", "configmaps", "ADDED"), Step("kube", "configmaps", "MODIFIED")]
    assert not switch.killed.is_set()
