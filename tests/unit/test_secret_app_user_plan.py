"""plan_value for an application user: first value, repairs, endpoint changes and staged rotations."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import SecretStr

from upskill_operator.adapters.secret.login import LoginFacts, stored_password
from upskill_operator.adapters.secret.rotation_plan import ValueFacts, plan_value
from upskill_operator.adapters.secret.state import ObservedSecret
from upskill_operator.adapters.secret.values import AppUser, Current, DatabaseOrigin, Resolved, version_token
from upskill_operator.aws.secretsmanager import PasswordPolicy
from upskill_operator.models.secret import SecretSpec

UID = "uid-7"
NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
POLICY = PasswordPolicy(length=40, exclude_punctuation=True)
WORKS = LoginFacts(current_works=True)


def record(password: str, host: str = "writer") -> SecretStr:
    return SecretStr(json.dumps({"username": "app_web", "password": password, "host": host}, sort_keys=True))


def app_user(host: str = "writer") -> Resolved:
    user = AppUser(
        role="app_web",
        dbname="auth",
        build=lambda password: record(password.get_secret_value(), host),
        admin={"host": "writer", "port": "5432"},
        master_user="upskill_admin",
        master_password=SecretStr("master"),
        policy=POLICY,
    )
    origin = DatabaseOrigin("auth-db", "cluster-1", "arn:rds!cluster", NOW - 90 * DAY, "m1")
    return Resolved(origin="UpskillDatabase auth-db (writer, user app_web)", database=origin, app_user=user)


def facts(
    *,
    value: SecretStr | None = None,
    resolved: Resolved | None = None,
    login: LoginFacts | None = WORKS,
    created: dt.datetime = NOW - DAY,
    rotation: dict[str, Any] | None = None,
    **extra: Any,
) -> ValueFacts:
    wire: dict[str, Any] = {"source": {"database": {"ref": "auth-db", "user": "app_web", "endpoint": "writer"}}}
    if rotation:
        wire["rotation"] = rotation
    current = Current("current-id", value, created, "previous-id") if value is not None else None
    observed = ObservedSecret(
        name="n", arn="arn", stages={"current-id": ("AWSCURRENT",), "previous-id": ("AWSPREVIOUS",)}
    )
    return ValueFacts(
        UID, SecretSpec.model_validate(wire), resolved or app_user(), observed, current, NOW, login=login, **extra
    )


def test_the_first_value_is_a_generated_record_under_the_app_policy() -> None:
    plan = plan_value(facts(value=None, login=None))
    assert plan.write is not None
    assert (plan.write.token, plan.write.policy, plan.write.content) == (version_token(UID, "initial"), POLICY, None)
    assert not plan.write.staged  # no one reads the secret yet: created as AWSCURRENT, the role follows


def test_a_working_password_with_the_same_record_needs_nothing() -> None:
    plan = plan_value(facts(value=record("pw1")))
    assert (plan.diff, plan.write, plan.login) == ((), None, None)


def test_an_endpoint_change_rewrites_the_record_with_the_same_password() -> None:
    plan = plan_value(facts(value=record("pw1"), resolved=app_user(host="new-writer")))
    assert plan.diff == ("value",)
    assert plan.write is not None
    assert plan.write.content is not None
    assert not plan.write.staged
    assert stored_password(plan.write.content) == SecretStr("pw1")
    assert json.loads(plan.write.content.get_secret_value())["host"] == "new-writer"


def test_a_refused_password_is_set_on_the_role_without_a_new_version() -> None:
    plan = plan_value(facts(value=record("pw1"), login=LoginFacts(current_works=False)))
    assert plan.write is None
    assert plan.login is not None
    assert plan.login.promote is None
    assert plan.diff == ("role app_web",)


def test_memberships_that_differ_from_member_of_are_resynced_with_the_current_password() -> None:
    plan = plan_value(facts(value=record("pw1"), login=LoginFacts(current_works=True, groups_ok=False)))
    assert plan.write is None
    assert plan.login is not None
    assert plan.login.promote is None
    assert plan.diff == ("role app_web memberOf",)


def test_a_working_pending_version_is_promoted_rather_than_undone() -> None:
    plan = plan_value(facts(value=record("pw1"), login=LoginFacts(current_works=False, pending_id="pending-id")))
    assert plan.write is None
    assert plan.login is not None
    assert plan.login.promote == "pending-id"


def test_a_value_that_is_not_a_record_gets_a_new_staged_password() -> None:
    plan = plan_value(facts(value=SecretStr("postgresql://someone:else@host/db"), login=None))
    assert plan.write is not None
    assert plan.write.staged
    assert plan.write.token == version_token(UID, "record:current-id")


def test_scheduled_rotation_is_a_staged_write_counted_from_the_current_version() -> None:
    due = plan_value(facts(value=record("pw1"), created=NOW - 8 * DAY, rotation={"everyDays": 7}))
    assert due.write is not None
    assert due.write.staged
    assert due.write.token == version_token(UID, "scheduled:current-id")
    assert due.write.policy == POLICY
    early = plan_value(facts(value=record("pw1"), created=NOW - 6 * DAY, rotation={"everyDays": 7}))
    assert early.write is None  # the master secret's age (90 days) does not count for an app user
    assert early.outputs["nextRotationTime"] == "2025-06-02T12:00:00Z"


def test_a_manual_request_is_a_staged_write_that_a_retry_recognises() -> None:
    plan = plan_value(facts(value=record("pw1"), request="now", rotation={"enabled": False}))
    assert plan.write is not None
    assert plan.write.staged
    assert plan.write.token == version_token(UID, "manual:now:current-id")
    done = facts(value=record("pw2"), request="now", rotation={"enabled": False})
    done = ValueFacts(
        done.uid,
        done.spec,
        done.resolved,
        ObservedSecret(name="n", arn="arn", stages={plan.write.token: ("AWSCURRENT",), "current-id": ("AWSPREVIOUS",)}),
        Current(plan.write.token, record("pw2"), NOW, "current-id"),
        NOW,
        request="now",
        login=LoginFacts(current_works=True),
    )
    answered = plan_value(done)
    assert answered.write is None
    assert answered.outputs["rotationRequest"] == "now"
