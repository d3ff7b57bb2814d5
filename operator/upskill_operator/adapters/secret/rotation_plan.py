"""What the value of a secret needs now: nothing, a new version, or a rotation (pure).

The decision uses facts AWS keeps, not only status, so a crash between a write and the status
update never repeats the write: rotation is due from the creation time of the value in use,
and a write's version id names its intent and the version it replaces (``rotate after X``),
so a repeated decision finds its own version already current.

Rotations come in three kinds:

* generated values without a Lambda: the operator writes a new random version (synchronous);
* secrets with a rotation Lambda: AWS rotates on its schedule; a manual request calls
  RotateSecret, whose Lambda writes the version under the token given (asynchronous);
* ``database`` sources with the master user: new credentials come from RDS
  (RotateMasterUserPassword), which sets the new password and writes the master secret first;
  the URL then follows (asynchronous);
* ``database`` sources with an application user: the operator writes a new credential record as
  AWSPENDING, sets its password on the role, then makes it AWSCURRENT (a *staged* write, see
  :mod:`.secret_login`, which also repairs a stored password the database does not accept).

Asynchronous requests are remembered (:class:`InFlight`) until their result shows, so a pass
waits for them instead of asking again. The result shows as a new version of the credentials
(the master secret's, or this secret's for a Lambda), never by comparing clocks. A request to RDS
is recorded in status *before* it is sent (one pass records the intent, the next sends it), so an
operator killed right after the call finds the intent and waits instead of rotating twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import SecretStr

from upskill_operator.adapters.secret.login import LoginAction, LoginFacts, stored_password
from upskill_operator.adapters.secret.state import POLICY_TAG, ObservedSecret, desired_rotation
from upskill_operator.adapters.secret.values import Current, Resolved, content_token, policy_digest, same_value
from upskill_operator.adapters.secret.values import version_token as token
from upskill_operator.aws.secretsmanager import PasswordPolicy
from upskill_operator.models.secret import SecretSpec

__all__ = [
    "INFLIGHT_TIMEOUT",
    "AsyncRotation",
    "InFlight",
    "ValueFacts",
    "ValuePlan",
    "WriteValue",
    "plan_value",
    "rfc3339",
]

INFLIGHT_TIMEOUT = dt.timedelta(minutes=15)
"""After this long without a result, an asynchronous rotation is requested again."""


def rfc3339(at: dt.datetime | None) -> str | None:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at is not None else None


def parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class WriteValue:
    """Write a version: ``content`` when given, else a value generated under ``policy``."""

    token: str
    reason: str
    content: SecretStr | None = field(default=None, repr=False)
    policy: PasswordPolicy | None = None
    staged: bool = False
    """An application user's new password: AWSPENDING, then the role, then AWSCURRENT."""


@dataclass(frozen=True)
class AsyncRotation:
    """Ask AWS to rotate: a Lambda (RotateSecret with ``lambda_token``) or RDS (the cluster's master password)."""

    reason: str
    lambda_token: str | None = None
    cluster_identifier: str | None = None
    request: str | None = None
    """The upskill.io/rotate value this answers, if any."""
    version: str | None = None
    """The credentials' version now (see :class:`InFlight`)."""


@dataclass(frozen=True)
class InFlight:
    requested: dt.datetime
    version: str | None = None
    """The credentials' version when the rotation was requested; a different one means it arrived."""
    called: bool = True
    """False while an RDS request is only recorded, not sent yet."""
    durable: bool = True
    """The record is in status (it survives a restart), so the request may be sent."""


@dataclass(frozen=True)
class ValueFacts:
    uid: str
    spec: SecretSpec
    resolved: Resolved
    observed: ObservedSecret
    current: Current | None
    now: dt.datetime
    request: str | None = None
    """The ``upskill.io/rotate`` annotation."""
    handled_request: str | None = None
    """status.rotationRequest."""
    inflight: InFlight | None = None
    login: LoginFacts | None = None
    """An application user's login check (None when there is no credential record to check)."""


@dataclass(frozen=True)
class ValuePlan:
    diff: tuple[str, ...] = ()
    write: WriteValue | None = None
    rotate: AsyncRotation | None = None
    pending: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    login: LoginAction | None = None


def _base_time(f: ValueFacts) -> dt.datetime | None:
    """When the credentials in use were created: the rotation schedule counts from there."""
    if f.resolved.database is not None and f.resolved.app_user is None:
        return f.resolved.database.credentials_created
    return f.current.created if f.current is not None else None


def _timing(f: ValueFacts) -> tuple[dt.datetime | None, dict[str, Any]]:
    """(next rotation, status outputs for lastRotatedTime and nextRotationTime)."""
    if desired_rotation(f.spec) is not None:
        return None, {
            "nextRotationTime": rfc3339(f.observed.next_rotation),
            "lastRotatedTime": rfc3339(f.observed.last_rotated),
        }
    schedule = f.spec.rotation.schedule() if f.spec.rotation else None
    base = _base_time(f)
    upcoming = schedule.next_after(base) if schedule is not None and base is not None else None
    if f.resolved.database is not None and f.resolved.app_user is None:
        last = base
    else:
        last = f.current.created if f.current is not None and f.current.previous_id else None
    return upcoming, {"nextRotationTime": rfc3339(upcoming), "lastRotatedTime": rfc3339(last)}


def credentials_version(f: ValueFacts) -> str | None:
    """The version a rotation replaces: the master secret's for a database, else this secret's."""
    if f.resolved.database is not None and f.resolved.app_user is None:
        return f.resolved.database.credentials_version
    return f.current.version_id if f.current is not None else None


def _rotation(f: ValueFacts, intent: str, reason: str, request: str | None = None) -> ValuePlan:
    """The rotation this source supports, as a plan."""
    assert f.current is not None
    if desired_rotation(f.spec) is not None:
        lambda_token = token(f.uid, f"{intent}:{f.current.version_id}")
        rotate = AsyncRotation(reason, lambda_token=lambda_token, request=request, version=credentials_version(f))
        return ValuePlan(diff=("rotation",), rotate=rotate)
    if f.resolved.app_user is not None:
        staged = WriteValue(
            token(f.uid, f"{intent}:{f.current.version_id}"), reason, policy=f.resolved.app_user.policy, staged=True
        )
        return ValuePlan(diff=("rotation",), write=staged)
    if f.resolved.policy is not None:
        write = WriteValue(token(f.uid, f"{intent}:{f.current.version_id}"), reason, policy=f.resolved.policy)
        return ValuePlan(diff=("rotation",), write=write)
    if f.resolved.database is not None:
        cluster = f.resolved.database.cluster_identifier
        if not cluster:
            return ValuePlan(
                pending=f"{reason}: waiting for UpskillDatabase {f.resolved.database.database} "
                "to report its cluster identifier"
            )
        rotate = AsyncRotation(reason, cluster_identifier=cluster, request=request, version=credentials_version(f))
        return ValuePlan(diff=("rotation",), rotate=rotate)
    return ValuePlan()  # an imported value without a Lambda: a person rotates it at the source


def _arrived(f: ValueFacts, inflight: InFlight) -> bool:
    if inflight.version is not None:
        now = credentials_version(f)
        return now is not None and now != inflight.version
    base = _base_time(f)  # a record written before versions were recorded
    return base is not None and base >= inflight.requested.replace(microsecond=0)


def _inflight(f: ValueFacts, outputs: dict[str, Any]) -> ValuePlan | None:
    """While an asynchronous rotation is under way: send a recorded request, or wait; None once it arrived."""
    inflight = f.inflight
    assert inflight is not None
    if _arrived(f, inflight):
        outputs["rotationRequestedTime"] = None
        outputs["rotationRequestedVersion"] = None
        return None
    if not inflight.called:
        if not inflight.durable:
            return ValuePlan(pending="recording the rotation request before sending it", outputs=outputs)
        cluster = f.resolved.database.cluster_identifier if f.resolved.database else None
        rotate = AsyncRotation(
            "send the recorded rotation request", cluster_identifier=cluster, version=inflight.version
        )
        return ValuePlan(diff=("rotation",), rotate=rotate, outputs=outputs)
    if f.now - inflight.requested < INFLIGHT_TIMEOUT:
        return ValuePlan(
            pending=f"waiting for AWS to finish the rotation requested at {rfc3339(inflight.requested)}",
            outputs=outputs,
        )
    return None


def _request_satisfied(f: ValueFacts, request: str) -> bool:
    """The request was carried out already (its version is current, or the value is newer than its time)."""
    assert f.current is not None
    stamp, base = parse_time(request), _base_time(f)
    if stamp is not None and base is not None and base >= stamp:
        return True
    return f.current.version_id == token(f.uid, f"manual:{request}:{f.observed.previous_id}")


def _initial(f: ValueFacts) -> ValuePlan:
    if f.resolved.content is not None:
        write = WriteValue(content_token(f.uid, f.resolved.content), "first value", content=f.resolved.content)
    else:
        write = WriteValue(token(f.uid, "initial"), "first value", policy=f.resolved.policy)
    return ValuePlan(diff=("value",), write=write)


def _app_user(f: ValueFacts) -> ValueFacts | ValuePlan:
    """An application user: a repair or the first value, else the facts with the record the current password gives."""
    user = f.resolved.app_user
    assert user is not None
    if f.current is None:
        return ValuePlan(diff=("value",), write=WriteValue(token(f.uid, "initial"), "first value", policy=user.policy))
    password = stored_password(f.current.value)
    if password is None:  # someone stored something else: a new password, set before it is current
        reason = "the stored value is not a credential record"
        record = WriteValue(token(f.uid, f"record:{f.current.version_id}"), reason, policy=user.policy, staged=True)
        return ValuePlan(diff=("value",), write=record)
    if f.login is not None and not f.login.current_works:
        if f.login.pending_id is not None:
            action = LoginAction("the AWSPENDING password works and AWSCURRENT's does not", promote=f.login.pending_id)
            return ValuePlan(diff=("credentials",), login=action)
        return ValuePlan(diff=(f"role {user.role}",), login=LoginAction("the database refuses the stored password"))
    if f.login is not None and not f.login.groups_ok:
        action = LoginAction("the role's group memberships differ from memberOf")
        return ValuePlan(diff=(f"role {user.role} memberOf",), login=action)
    return replace(f, resolved=replace(f.resolved, content=user.build(password)))


def plan_value(f: ValueFacts) -> ValuePlan:
    """The one value change this observation calls for, with the status fields it publishes."""
    if f.resolved.app_user is not None:
        checked = _app_user(f)
        if isinstance(checked, ValuePlan):
            return checked
        f = checked
    if f.current is None:
        return _initial(f)
    aws_rotates = desired_rotation(f.spec) is not None
    content = f.resolved.content
    if content is not None and not aws_rotates and not same_value(f.current.value, content):
        write = WriteValue(content_token(f.uid, content), f"{f.resolved.origin} changed", content=content)
        return ValuePlan(diff=("value",), write=write)
    policy = f.resolved.policy
    recorded = f.observed.tags.get(POLICY_TAG)
    if policy is not None and not aws_rotates and recorded and recorded != policy_digest(policy):
        return _rotation(f, f"policy:{policy_digest(policy)}", "the generator policy changed")
    upcoming, outputs = _timing(f)
    if f.inflight is not None:
        plan = _inflight(f, outputs)
        if plan is not None:
            return plan
    if f.request and f.request != f.handled_request:
        if _request_satisfied(f, f.request):
            outputs["rotationRequest"] = f.request
        else:
            plan = _rotation(f, f"manual:{f.request}", f"rotation requested ({f.request})", f.request)
            if plan.diff or plan.pending:
                return ValuePlan(plan.diff, plan.write, plan.rotate, plan.pending, {**outputs, **plan.outputs})
            outputs["rotationRequest"] = f.request  # nothing this source can rotate: answered, not repeated
    if upcoming is not None and f.now >= upcoming and not aws_rotates:
        plan = _rotation(f, "scheduled", "scheduled rotation")
        return ValuePlan(plan.diff, plan.write, plan.rotate, plan.pending, {**outputs, **plan.outputs})
    return ValuePlan(outputs=outputs)
