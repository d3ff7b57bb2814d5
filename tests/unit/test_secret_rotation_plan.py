"""plan_value: which value change (if any) an observation calls for, one named case per row."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from pydantic import SecretStr

from upskill_operator.adapters.secret.rotation_plan import InFlight, ValueFacts, plan_value, rfc3339
from upskill_operator.adapters.secret.state import POLICY_TAG, ObservedSecret
from upskill_operator.adapters.secret.values import (
    Current,
    DatabaseOrigin,
    Resolved,
    content_token,
    policy_digest,
    version_token,
)
from upskill_operator.aws.secretsmanager import PasswordPolicy
from upskill_operator.models.secret import SecretSpec

UID = "uid-1"
NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
POLICY = PasswordPolicy(length=48)
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:rotate"


def spec(**wire: Any) -> SecretSpec:
    return SecretSpec.model_validate({"source": {"generate": {}}, **wire})


def facts(
    *,
    wire: dict[str, Any] | None = None,
    resolved: Resolved | None = None,
    value: str | None = "v1",
    created: dt.datetime = NOW - DAY,
    tags: dict[str, str] | None = None,
    **extra: Any,
) -> ValueFacts:
    resolved = resolved or Resolved(origin="generated", policy=POLICY)
    current = Current("current-id", SecretStr(value), created, "previous-id") if value is not None else None
    observed = ObservedSecret(
        name="n",
        arn="arn",
        tags={POLICY_TAG: policy_digest(POLICY)} if tags is None else tags,
        stages={"current-id": ("AWSCURRENT",), "previous-id": ("AWSPREVIOUS",)},
    )
    return ValueFacts(UID, spec(**(wire or {})), resolved, observed, current, NOW, **extra)


COPIED = Resolved(origin="Secret s key k", content=SecretStr("v1"))
CHANGED = Resolved(origin="Secret s key k", content=SecretStr("v2"))


def database(created: dt.datetime, cluster: str | None = "cluster-1") -> Resolved:
    origin = DatabaseOrigin("auth-db", cluster, "arn:rds!cluster", created, "master-v1")
    return Resolved(origin="UpskillDatabase auth-db (proxy)", content=SecretStr("v1"), database=origin)


def test_first_generated_value_has_an_intent_token() -> None:
    plan = plan_value(facts(value=None))
    assert plan.diff == ("value",)
    assert plan.write is not None
    assert plan.write.policy == POLICY
    assert plan.write.content is None
    assert plan.write.token == version_token(UID, "initial")


def test_first_copied_value_has_a_content_token() -> None:
    plan = plan_value(facts(value=None, resolved=COPIED))
    assert plan.write is not None
    assert plan.write.content is not None
    assert plan.write.token == content_token(UID, SecretStr("v1"))


@pytest.mark.parametrize(
    ("case", "kwargs", "diff", "kind"),
    [
        ("copied-unchanged", {"resolved": COPIED}, (), None),
        ("copied-changed", {"resolved": CHANGED}, ("value",), "write"),
        (
            "lambda-owns-the-value",
            {"resolved": CHANGED, "wire": {"rotation": {"everyDays": 1, "lambdaArn": LAMBDA}}},
            (),
            None,
        ),
        ("generated-kept", {}, (), None),
        ("policy-changed", {"tags": {POLICY_TAG: "old"}}, ("rotation",), "write"),
        ("policy-unknown-is-not-a-change", {"tags": {}}, (), None),
        ("scheduled-not-due", {"wire": {"rotation": {"everyDays": 2}}}, (), None),
        ("scheduled-due", {"wire": {"rotation": {"everyDays": 1}}}, ("rotation",), "write"),
        ("rotation-disabled", {"wire": {"rotation": {"enabled": False, "everyDays": 1}}}, (), None),
        (
            "schedule-expression-due",
            {"wire": {"rotation": {"scheduleExpression": "rate(12 hours)"}}},
            ("rotation",),
            "write",
        ),
        ("aws-schedules-itself", {"wire": {"rotation": {"everyDays": 1, "lambdaArn": LAMBDA}}}, (), None),
        (
            "database-due",
            {"resolved": database(NOW - 2 * DAY), "wire": {"rotation": {"everyDays": 1}}},
            ("rotation",),
            "rds",
        ),
        ("database-fresh", {"resolved": database(NOW), "wire": {"rotation": {"everyDays": 1}}}, (), None),
        ("manual", {"request": "now"}, ("rotation",), "write"),
        ("manual-handled", {"request": "now", "handled_request": "now"}, (), None),
        ("manual-older-than", {"request": "2025-05-01T00:00:00Z"}, (), None),
        ("manual-newer-than", {"request": "2025-06-01T11:00:00Z"}, ("rotation",), "write"),
        (
            "manual-lambda",
            {"request": "now", "wire": {"rotation": {"everyDays": 30, "lambdaArn": LAMBDA}}},
            ("rotation",),
            "lambda",
        ),
        ("manual-database", {"request": "now", "resolved": database(NOW)}, ("rotation",), "rds"),
    ],
)
def test_value_decisions(case: str, kwargs: dict[str, Any], diff: tuple[str, ...], kind: str | None) -> None:
    plan = plan_value(facts(**kwargs))
    assert plan.diff == diff, case
    assert plan.pending is None
    found = "write" if plan.write else ("lambda" if plan.rotate and plan.rotate.lambda_token else None)
    found = found or ("rds" if plan.rotate and plan.rotate.cluster_identifier else None)
    assert found == kind


def test_a_rotation_names_the_version_it_replaces() -> None:
    plan = plan_value(facts(wire={"rotation": {"everyDays": 1}}))
    assert plan.write is not None
    assert plan.write.token == version_token(UID, "scheduled:current-id")
    assert plan.write.policy == POLICY


def test_a_manual_request_already_carried_out_is_recognised_from_aws_alone() -> None:
    """After a crash, status lost the record, but the current version's id names the request."""
    done = facts(request="now")
    current = replace(done.current, version_id=version_token(UID, "manual:now:previous-id"))  # type: ignore[type-var]
    plan = plan_value(replace(done, current=current))
    assert plan.diff == ()
    assert plan.outputs["rotationRequest"] == "now"


def test_manual_request_on_an_imported_value_is_answered_without_a_write() -> None:
    plan = plan_value(facts(resolved=COPIED, request="now"))
    assert plan.diff == ()
    assert plan.outputs["rotationRequest"] == "now"


def test_database_rotation_waits_for_a_cluster_identifier() -> None:
    plan = plan_value(facts(resolved=database(NOW, cluster=None), request="now"))
    assert plan.rotate is None
    assert plan.pending is not None
    assert "cluster identifier" in plan.pending


@pytest.mark.parametrize(
    ("requested", "credentials", "pending", "cleared"),
    [
        (NOW - dt.timedelta(minutes=1), NOW - DAY, True, False),  # asked a minute ago, nothing new yet: wait
        (NOW - dt.timedelta(minutes=1), NOW, False, True),  # the new credentials arrived
        (NOW - dt.timedelta(hours=1), NOW - DAY, False, False),  # no answer for an hour: ask again
    ],
)
def test_asynchronous_rotations_are_awaited(
    requested: dt.datetime, credentials: dt.datetime, pending: bool, cleared: bool
) -> None:
    plan = plan_value(
        facts(resolved=database(credentials), wire={"rotation": {"everyDays": 1}}, inflight=InFlight(requested))
    )
    assert (plan.pending is not None) is pending
    assert ("rotationRequestedTime" in plan.outputs) is cleared
    if not pending and not cleared:
        assert plan.rotate is not None


def test_status_times() -> None:
    plan = plan_value(facts(wire={"rotation": {"everyDays": 7}}))
    assert plan.outputs == {"nextRotationTime": "2025-06-07T12:00:00Z", "lastRotatedTime": "2025-05-31T12:00:00Z"}


@pytest.mark.parametrize(
    ("inflight", "expect"),
    [
        (InFlight(NOW, version="master-v1", called=False, durable=False), "record"),  # intent not in status yet
        (InFlight(NOW, version="master-v1", called=False, durable=True), "send"),  # recorded: send it now
        (InFlight(NOW, version="master-v1"), "wait"),  # sent (or maybe sent, after a restart): never twice
        (InFlight(NOW, version="master-v0"), "arrived"),  # the master secret has a new version
    ],
    ids=["record", "send", "wait", "arrived"],
)
def test_an_rds_request_is_recorded_before_it_is_sent_and_judged_by_version(inflight: InFlight, expect: str) -> None:
    """Versions, not clocks: credentials created in the same second as the request do not count as its answer."""
    plan = plan_value(facts(resolved=database(NOW), wire={"rotation": {"everyDays": 1}}, inflight=inflight))
    sent = plan.rotate is not None and plan.rotate.cluster_identifier == "cluster-1"
    assert (plan.pending or "", sent, "rotationRequestedVersion" in plan.outputs) == {
        "record": ("recording the rotation request before sending it", False, False),
        "send": ("", True, False),
        "wait": (f"waiting for AWS to finish the rotation requested at {rfc3339(NOW)}", False, False),
        "arrived": ("", False, True),
    }[expect]
