"""UpskillSecret rotation end to end: on schedule, on request, through a Lambda, and across a crash.

Emulated AWS behaviour (see ``upskill_sandbox/secrets_extension.py``): RotateSecret records the Lambda
configuration without running a Lambda; the test plays the Lambda by writing the version with
the token RotateSecret was given. Version creation times are moved into the past to make a
rotation due without waiting a day.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from upskill_operator.adapters.secret.restart import restart_annotation, version_mark
from upskill_sandbox import secrets_extension
from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import NAMESPACE, REGION, Bed, wait_for
from e2e.secret_support import (
    PLURAL,
    CrashAfter,
    aws_name,
    aws_value,
    deployment,
    fast_operators,
    kube_value,
    ready,
    secret_doc,
    secrets_operator,
    settle,
    template_annotations,
    unique,
    versions,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def operator(bed: Bed, monkeypatch: pytest.MonkeyPatch) -> Iterator[OperatorThread]:
    """This module's operator: fast clocks, no UpskillDatabase controller (see secret_support)."""
    with secrets_operator(bed, monkeypatch) as running:
        yield running


GENERATE = {"generate": {"length": 32, "excludePunctuation": True}}
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:rotate-upskill"


@pytest.fixture(scope="module", autouse=True)
def _rotation_emulation() -> None:
    secrets_extension.install()


def current_version(bed: Bed, name: str) -> dict[str, Any]:
    return next(v for v in versions(bed, name) if "AWSCURRENT" in v["VersionStages"])


def generation(bed: Bed, name: str) -> int:
    return int((bed.kube.get("apps/v1", "deployments", NAMESPACE, name) or {})["metadata"]["generation"])


def annotate(bed: Bed, doc: dict[str, Any], value: str) -> None:
    bed.apply({**doc, "metadata": {**doc["metadata"], "annotations": {"upskill.io/rotate": value}}})


def test_scheduled_and_manual_rotation_roll_the_deployment_once_per_change(bed: Bed, operator: OperatorThread) -> None:
    name, target, web = unique("auth"), unique("env"), unique("web")
    deployment(bed, web, target, "TOKEN")
    doc = secret_doc(
        name,
        GENERATE,
        rotation={"everyDays": 1},
        target={"secretName": target, "key": "TOKEN", "restartOnChange": [{"kind": "Deployment", "name": web}]},
    )
    bed.apply(doc)
    first = ready(bed, name)["status"]["versionId"]
    start = generation(bed, web)
    key = restart_annotation(name)
    assert key not in template_annotations(bed, web)  # the first value rolls nothing

    secrets_extension.age_versions(aws_name(name), 86400 + 60, region=REGION)
    wait_for(lambda: current_version(bed, name)["VersionId"] != first, 20, "scheduled rotation")
    second = current_version(bed, name)["VersionId"]
    wait_for(lambda: template_annotations(bed, web).get(key) == version_mark(second), 20, "deployment rolled")
    assert kube_value(bed, target, "TOKEN") == aws_value(bed, name)
    stages = {v["VersionId"]: v["VersionStages"] for v in versions(bed, name)}
    assert stages == {first: ["AWSPREVIOUS"], second: ["AWSCURRENT"]}
    status = wait_for(lambda: (s := bed.get(PLURAL, name)["status"]).get("restartedVersionId") == second and s)
    assert status["lastRotatedTime"] == status["versionCreatedTime"]
    assert status["nextRotationTime"] > status["lastRotatedTime"]
    settle(bed, name)
    assert generation(bed, web) == start + 1  # exactly one rollout for one change
    assert len(versions(bed, name)) == 2

    annotate(bed, doc, "now")
    wait_for(lambda: bed.get(PLURAL, name)["status"].get("rotationRequest") == "now", 20, "request handled")
    third = current_version(bed, name)["VersionId"]
    assert third not in (first, second)
    wait_for(lambda: template_annotations(bed, web).get(key) == version_mark(third), 20, "rolled again")
    settle(bed, name)
    assert len(versions(bed, name)) == 3  # the request is handled once, not at every pass
    assert generation(bed, web) == start + 2

    annotate(bed, doc, "2001-01-01T00:00:00Z")  # "rotate if older than": the value is newer, nothing to do
    wait_for(lambda: bed.get(PLURAL, name)["status"].get("rotationRequest") == "2001-01-01T00:00:00Z", 20)
    assert len(versions(bed, name)) == 3
    assert generation(bed, web) == start + 2


def test_a_changed_generator_policy_gives_a_new_value(bed: Bed, operator: OperatorThread) -> None:
    name = unique("policy")
    doc = secret_doc(name, GENERATE)
    bed.apply(doc)
    ready(bed, name)
    bed.apply(secret_doc(name, {"generate": {"length": 64, "excludePunctuation": True}}))
    wait_for(lambda: len(aws_value(bed, name)) == 64, 20, "regenerated")
    settle(bed, name)
    assert len(versions(bed, name)) == 2


def test_lambda_rotation_is_configured_in_aws_and_requests_go_to_the_lambda(bed: Bed, operator: OperatorThread) -> None:
    name, target = unique("lambda"), unique("env")
    doc = secret_doc(
        name, GENERATE, rotation={"everyDays": 30, "lambdaArn": LAMBDA}, target={"secretName": target, "key": "K"}
    )
    bed.apply(doc)
    status = ready(bed, name)["status"]
    sm = bed.boto("secretsmanager")
    described = sm.describe_secret(SecretId=aws_name(name))
    assert described["RotationEnabled"] is True
    assert described["RotationLambdaARN"] == LAMBDA
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert status["nextRotationTime"]

    doc["spec"]["rotation"] = {"everyDays": None, "scheduleExpression": "rate(10 days)", "lambdaArn": LAMBDA}
    bed.apply(doc)
    wait_for(
        lambda: sm.describe_secret(SecretId=aws_name(name))["RotationRules"] == {"ScheduleExpression": "rate(10 days)"},
        20,
        "schedule updated",
    )

    annotate(bed, doc, "now")
    requests = wait_for(
        lambda: [t for n, t in secrets_extension.ROTATION_REQUESTS if n == aws_name(name)], 20, "RotateSecret"
    )
    assert requests[0]  # the Lambda is told which version id to create
    sm.put_secret_value(SecretId=aws_name(name), ClientRequestToken=requests[0], SecretString="rotated-by-lambda")
    wait_for(lambda: kube_value(bed, target, "K") == "rotated-by-lambda", 20, "Lambda's version synced")
    wait_for(lambda: bed.get(PLURAL, name)["status"].get("rotationRequest") == "now", 20, "request recorded")
    settle(bed, name)
    assert len([n for n, _ in secrets_extension.ROTATION_REQUESTS if n == aws_name(name)]) == 1

    doc["spec"]["rotation"] = {"enabled": False}
    bed.apply(doc)
    wait_for(lambda: not sm.describe_secret(SecretId=aws_name(name)).get("RotationEnabled"), 20, "rotation off")


def test_a_crash_right_after_a_rotation_write_does_not_rotate_twice(bed: Bed, monkeypatch: pytest.MonkeyPatch) -> None:
    fast_operators(bed, monkeypatch)
    name, target = unique("crash"), unique("env")
    doc = secret_doc(name, GENERATE, target={"secretName": target, "key": "K"})
    bed.start_operator()
    try:
        bed.apply(doc)
        ready(bed, name)
    except BaseException:
        bed.stop_operator()
        raise
    crash = CrashAfter("PutSecretValue")
    bed.hooks.attempts.append(crash)
    try:
        annotate(bed, doc, "now")
        assert crash.reached.wait(20), "the rotation write never came"
        stopper = threading.Thread(target=bed.stop_operator)
        stopper.start()
        stopper.join(60)
        crash.release.set()  # the write reaches AWS after the operator died: status never learns of it
        assert crash.after.wait(20)
    finally:
        crash.release.set()
        bed.hooks.attempts.remove(crash)
    assert len(versions(bed, name)) == 2
    assert bed.get(PLURAL, name)["status"].get("rotationRequest") is None

    bed.start_operator()
    try:
        wait_for(lambda: bed.get(PLURAL, name)["status"].get("rotationRequest") == "now", 20, "request recorded")
        wait_for(lambda: kube_value(bed, target, "K") == aws_value(bed, name), 20, "synced")
        settle(bed, name)
    finally:
        bed.stop_operator()
    assert len(versions(bed, name)) == 2  # the restarted operator recognised its own version


def test_a_crash_during_creation_leaves_one_secret_with_one_version(bed: Bed, monkeypatch: pytest.MonkeyPatch) -> None:
    fast_operators(bed, monkeypatch)
    name, source = unique("import"), unique("src")
    bed.kube.apply_manifest(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": source, "namespace": NAMESPACE},
            "stringData": {"value": "sk_live_crash"},
        }
    )
    crash = CrashAfter("CreateSecret")
    bed.hooks.attempts.append(crash)
    try:
        bed.start_operator()
        bed.apply(secret_doc(name, {"fromSecret": {"name": source, "key": "value"}}))
        assert crash.reached.wait(20), "the create never came"
        stopper = threading.Thread(target=bed.stop_operator)
        stopper.start()
        stopper.join(60)
        crash.release.set()
        assert crash.after.wait(20)
    finally:
        crash.release.set()
        bed.hooks.attempts.remove(crash)
    bed.start_operator()
    try:
        ready(bed, name)
        settle(bed, name)
    finally:
        bed.stop_operator()
    assert len(versions(bed, name)) == 1
    assert aws_value(bed, name) == "sk_live_crash"
