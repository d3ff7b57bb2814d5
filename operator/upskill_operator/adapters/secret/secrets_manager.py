"""UpskillSecret's Secrets Manager secret: metadata, versions, rotation, deletion and restore.

Observe reads DescribeSecret (tags, deletion, rotation configuration, versions and stages) and,
only once the owner tag says the secret is this resource's, the AWSCURRENT value (GetSecretValue),
and hands that value on to the Kubernetes sync under :data:`~.secret_value.CURRENT_KEY`. It
publishes version ids and times, never the value: the value only takes part in the comparison, as
a ``SecretStr``.

A secret scheduled for deletion that carries this resource's owner tag counts as absent, so
``create`` restores it (the value and its versions come back) instead of failing because the
name is taken (ACK #2969); after deletion it also counts as gone, so the finalizer can go.

An untagged secret this resource may adopt (``Target.claim``) is first only tagged, with nothing
else read or written; the next observe, which sees our tag, reads its value. A secret that is not
ours (tagged for another resource, or untagged outside the adoption scope) is described, never read.

For an application user (``spec.source.database.user``) observe also checks that the stored
password logs in, and writes go through :mod:`.secret_login`'s order (AWSPENDING, the role,
then AWSCURRENT).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from upskill_operator.adapters.secret.login import AppCredentials, LoginFacts, Logins
from upskill_operator.adapters.secret.rotation_plan import (
    AsyncRotation,
    InFlight,
    ValueFacts,
    ValuePlan,
    WriteValue,
    parse_time,
    plan_value,
    rfc3339,
)
from upskill_operator.adapters.secret.source import secret_spec
from upskill_operator.adapters.secret.state import (
    POLICY_TAG,
    MetadataPlan,
    ObservedSecret,
    desired_rotation,
    metadata_plan,
    observed_secret,
)
from upskill_operator.adapters.secret.values import CURRENT_KEY, SOURCE_KEY, Current, Resolved, policy_digest
from upskill_operator.adapters.shared.data_gone import secret_gone
from upskill_operator.adapters.shared.naming import pinned
from upskill_operator.adapters.shared.read_memory import Memory
from upskill_operator.aws.errors import AwsTerminalError
from upskill_operator.aws.kms import Kms
from upskill_operator.aws.rds_passwords import RdsPasswords
from upskill_operator.aws.secretsmanager import SecretsManager
from upskill_operator.errors import NotFoundError, RecoverableError, TerminalError
from upskill_operator.models.secret import ROTATE_ANNOTATION
from upskill_operator.models.tags import managed_keys, owner_of
from upskill_operator.reconcile.protocol import Claim, DeletionPolicy, Naming, Observation, Target

__all__ = ["SECRET_NAME_MAX", "SecretObservation", "SecretsManagerAdapter"]

SECRET_NAME_MAX = 512


@dataclass(frozen=True)
class SecretObservation(Observation):
    """Also carries what update needs, so it does not read AWS again."""

    secret: ObservedSecret | None = None
    meta: MetadataPlan | None = None
    value: ValuePlan | None = None
    adopting: bool = False
    """An untagged secret to adopt: update only adds the ownership tags."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SecretsManagerAdapter:
    """Implements the reconcile ``Adapter`` protocol for one Secrets Manager secret."""

    name = "secret"
    owner_field = "spec.secretName"

    def __init__(
        self,
        secrets: SecretsManager,
        kms: Kms,
        rds: RdsPasswords,
        name_prefix: str,
        clock: Callable[[], dt.datetime] = _utcnow,
        logins: Logins | None = None,
        value_seconds: float = 0.0,
    ) -> None:
        self.secrets = secrets
        self.kms = kms
        self.rds = rds
        self.credentials = AppCredentials(secrets, logins or Logins())
        self.name_prefix = name_prefix
        self._clock = clock
        self._values = Memory[Current](value_seconds)
        """The AWSCURRENT value by secret ARN, under its version id. A version's value never changes in
        Secrets Manager (a new value is a new version), so while DescribeSecret shows the same AWSCURRENT
        version no GetSecretValue is needed; the age limit only bounds what stays in memory."""
        self._inflight: dict[str, tuple[InFlight, str | None]] = {}
        """Asynchronous rotations requested by this process, by uid: (when, the request answered)."""

    def secret_name(self, target: Target) -> str:
        """``spec.secretName``, or ``<prefix>/<namespace>/<name>``."""
        name = secret_spec(target).secret_name or f"{self.name_prefix}/{target.namespace}/{target.name}"
        if len(name) > SECRET_NAME_MAX:
            raise TerminalError(f"secret name is {len(name)} characters; AWS allows {SECRET_NAME_MAX}")
        return name

    def naming(self, target: Target) -> Naming:
        """``/`` joins are unambiguous (no namespace or name holds one): a derived name has no rivals."""
        return Naming(self.secret_name(target), f"{self.name_prefix}/{target.namespace}/{target.name}")

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        name = pinned("spec.secretName", self.secret_name(target), target.status.get("secretName"))
        named = {"secretName": name}
        try:
            observed = observed_secret(self.secrets.describe_secret(name))
        except NotFoundError:
            lost = secret_gone(name) if target.status.get("arn") and not target.deleting else None
            return SecretObservation(exists=False, up_to_date=False, outputs=named, gone=lost)
        owner, naming = owner_of(observed.tags), self.naming(target)
        claim = target.claim(owner, naming)
        if observed.deleted and claim is Claim.OURS:
            return SecretObservation(exists=False, up_to_date=False, outputs=named, secret=observed)
        seen = SecretObservation(exists=True, owner=owner, naming=naming, outputs=named, secret=observed)
        if claim is Claim.ADOPT and not target.deleting:  # not proven ours yet: restore and tag, read nothing
            first = ("deletedDate",) if observed.deleted else ("tags",)
            return replace(seen, up_to_date=False, diff=first, adopting=not observed.deleted)
        if claim is not Claim.OURS or target.deleting:
            return seen
        resolved = outputs.get(SOURCE_KEY)
        if not isinstance(resolved, Resolved):
            raise RecoverableError("the source was not resolved before the secret", reason="InternalError")
        current = self._current(observed)
        meta = metadata_plan(
            secret_spec(target),
            observed,
            self._tags(target, resolved),
            managed_keys(target.status),
            self._same_key,
        )
        login = self.credentials.facts(resolved.app_user, observed, current)
        value = plan_value(self._facts(target, resolved, observed, current, login))
        diff = value.diff + meta.diff
        published = {
            **named,
            "arn": observed.arn,
            "versionId": observed.current_id,
            "versionCreatedTime": rfc3339(current.created) if current else None,
            "previousVersionId": observed.previous_id,
            "managedTagKeys": list(meta.managed_tag_keys),
            **self._inflight_outputs(target, value),
            CURRENT_KEY: current,
        }
        return SecretObservation(
            exists=True,
            up_to_date=not diff,
            diff=diff,
            owner=owner,
            pending=value.pending,
            outputs=published,
            secret=observed,
            meta=meta,
            value=value,
        )

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None:
        """Restore our secret scheduled for deletion, else create it with its first value and all tags."""
        name = self.secret_name(target)
        try:
            observed = observed_secret(self.secrets.describe_secret(name))
        except NotFoundError:
            observed = None
        if observed is not None and observed.deleted:
            self.secrets.restore_secret(name)
            return
        resolved = outputs.get(SOURCE_KEY)
        if not isinstance(resolved, Resolved):
            raise RecoverableError("the source was not resolved before the secret", reason="InternalError")
        plan = plan_value(self._facts(target, resolved, ObservedSecret(name=name, arn=""), None))
        assert plan.write is not None
        spec = secret_spec(target)
        try:
            self.secrets.create_secret(
                name,
                value=plan.write.content or self._generate(plan.write, resolved),
                token=plan.write.token,
                kms_key_id=spec.kms_key_id,
                description=spec.description,
                tags=self._tags(target, resolved),
            )
        except AwsTerminalError as exc:
            if exc.reason != "ResourceExistsException":  # created meanwhile: the next observe sees it
                raise

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None:
        """KMS key and description, then the value (or a rotation request), then tags, then AWS rotation."""
        if not isinstance(observed, SecretObservation) or observed.secret is None:
            observed = self.observe(target, outputs)
        if not isinstance(observed, SecretObservation) or observed.secret is None:
            return  # gone meanwhile: the engine's next observe sees it
        secret = observed.secret
        if secret.deleted:
            self.secrets.restore_secret(secret.arn)
            return
        if observed.adopting:
            self.secrets.tag_resource(secret.arn, target.ownership_tags)
            return
        meta, value = observed.meta or MetadataPlan(), observed.value or ValuePlan()
        resolved = outputs.get(SOURCE_KEY)
        if meta.kms_key is not None or meta.description is not None:
            self.secrets.update_secret(secret.arn, description=meta.description, kms_key_id=meta.kms_key)
        if value.login is not None and isinstance(resolved, Resolved) and resolved.app_user is not None:
            self.credentials.repair(secret, resolved.app_user, value.login, outputs.get(CURRENT_KEY))
        if value.write is not None:
            self._write(secret, value.write, resolved if isinstance(resolved, Resolved) else None)
            if value.diff == ("rotation",):
                target.events.emit("Normal", "SecretRotated", f"new version {value.write.token}: {value.write.reason}")
        if value.rotate is not None:
            self._rotate(target, secret, value.rotate)
        self.secrets.untag_resource(secret.arn, meta.tags_to_remove)
        self.secrets.tag_resource(secret.arn, meta.tags_to_set)
        if meta.configure_rotation is not None:
            rotation = meta.configure_rotation
            self.secrets.rotate_secret(
                secret.arn, lambda_arn=rotation.lambda_arn, rules=rotation.rules, rotate_immediately=False
            )
        if meta.cancel_rotation:
            self.secrets.cancel_rotate_secret(secret.arn)

    def delete(self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy) -> None:
        """Schedule deletion after spec.recoveryWindowDays, or delete at once with forceDelete."""
        if policy != "Delete":
            raise TerminalError(f"deletionPolicy {policy} is not supported for secrets", reason="UnsupportedPolicy")
        spec = secret_spec(target)
        self._inflight.pop(target.uid, None)
        name = self.secret_name(target)
        if isinstance(observed, SecretObservation) and observed.secret is not None:
            self._values.forget(observed.secret.arn)
        if spec.force_delete:
            self.secrets.delete_secret(name, force=True)
        else:
            self.secrets.delete_secret(name, recovery_window_days=spec.recovery_window_days)

    # -- helpers --

    def _tags(self, target: Target, resolved: Resolved) -> dict[str, str]:
        tags = {**secret_spec(target).tags, **target.ownership_tags}
        if resolved.policy is not None:
            tags[POLICY_TAG] = policy_digest(resolved.policy)
        return tags

    def _same_key(self, wanted: str, reported: str | None) -> bool:
        if reported is None or wanted == reported:
            return wanted == reported
        try:
            return self.kms.key_arn(wanted) == self.kms.key_arn(reported)
        except NotFoundError:
            return False

    def _current(self, observed: ObservedSecret) -> Current | None:
        if observed.current_id is None:
            return None
        known = self._values.recall(observed.arn, observed.current_id)
        if known is not None:
            return replace(known.value, previous_id=observed.previous_id)
        try:
            found = self.secrets.get_secret_value(observed.arn, version_id=observed.current_id)
        except NotFoundError:
            return None  # a version without a value (an interrupted rotation): write one
        current = Current(found.version_id, found.value, found.created, observed.previous_id)
        if found.version_id == observed.current_id:
            self._values.remember(observed.arn, found.version_id, current)
        return current

    def _facts(
        self,
        target: Target,
        resolved: Resolved,
        observed: ObservedSecret,
        current: Current | None,
        login: LoginFacts | None = None,
    ) -> ValueFacts:
        memory = self._inflight.get(target.uid)
        recorded = target.status.get("rotationRequestedTime")
        if memory is not None:
            inflight: InFlight | None = replace(memory[0], durable=recorded == rfc3339(memory[0].requested))
        else:  # after a restart: a recorded request may have been sent, so it counts as sent
            stamp = parse_time(recorded)
            inflight = InFlight(stamp, version=target.status.get("rotationRequestedVersion")) if stamp else None
        handled = memory[1] if memory is not None and memory[1] else target.status.get("rotationRequest")
        return ValueFacts(
            uid=target.uid,
            spec=secret_spec(target),
            resolved=resolved,
            observed=observed,
            current=current,
            now=self._clock(),
            request=target.annotations.get(ROTATE_ANNOTATION) or None,
            handled_request=handled,
            inflight=inflight,
            login=login,
        )

    def _inflight_outputs(self, target: Target, value: ValuePlan) -> dict[str, Any]:
        out = dict(value.outputs)
        memory = self._inflight.get(target.uid)
        if "rotationRequestedTime" in out:  # arrived: forget it
            self._inflight.pop(target.uid, None)
        elif memory is not None:
            out["rotationRequestedTime"] = rfc3339(memory[0].requested)
            out["rotationRequestedVersion"] = memory[0].version
            if memory[1]:
                out.setdefault("rotationRequest", memory[1])
        return out

    def _generate(self, write: WriteValue, resolved: Resolved | None) -> Any:
        """A random value under the write's policy (for an application user: its credential record)."""
        if write.policy is None:
            raise AssertionError("a generated write needs a policy")
        password = self.secrets.get_random_password(write.policy)
        user = resolved.app_user if resolved is not None else None
        return user.build(password) if user is not None else password

    def _write(self, secret: ObservedSecret, write: WriteValue, resolved: Resolved | None) -> None:
        """Put the version, or, when a version with that id exists already, make it AWSCURRENT.

        A staged write (an application user's new password) is stored as AWSPENDING, set on the
        role, and only then made AWSCURRENT; a retry finds the version by its id and goes on.
        """
        known = {v["VersionId"] for v in self.secrets.list_secret_version_ids(secret.arn, include_deprecated=True)}
        if write.token not in known:
            value = write.content or self._generate(write, resolved)
            stages = ("AWSPENDING",) if write.staged else None
            self.secrets.put_secret_value(secret.arn, value=value, token=write.token, stages=stages)
            if not write.staged:
                return
        if not write.staged:
            self.credentials.promote(secret, write.token, staged=False)
            return
        if resolved is None or resolved.app_user is None:
            raise AssertionError("a staged write needs an application user")
        self.credentials.set_role_password(secret, resolved.app_user, write.token)
        self.credentials.promote(secret, write.token, staged=True)

    def _rotate(self, target: Target, secret: ObservedSecret, rotation: AsyncRotation) -> None:
        """Ask AWS to rotate. An RDS request is first only recorded (status, this pass), then sent (next pass)."""
        memory = self._inflight.get(target.uid)
        if rotation.cluster_identifier is not None:
            if memory is not None and not memory[0].called:
                self.rds.rotate_master_password(rotation.cluster_identifier)
                self._inflight[target.uid] = (replace(memory[0], called=True), memory[1])
                target.events.emit(
                    "Normal",
                    "RotationRequested",
                    f"asked RDS to rotate the master password of {rotation.cluster_identifier}; the value follows",
                )
                return
            requested = InFlight(self._clock().replace(microsecond=0), version=rotation.version, called=False)
            self._inflight[target.uid] = (requested, rotation.request)
            return
        else:
            wanted = desired_rotation(secret_spec(target))
            if wanted is None:
                raise AssertionError("a Lambda rotation needs rotation.lambdaArn")
            self.secrets.rotate_secret(
                secret.arn,
                lambda_arn=wanted.lambda_arn,
                rules=wanted.rules,
                rotate_immediately=True,
                token=rotation.lambda_token,
            )
            target.events.emit(
                "Normal", "RotationRequested", f"asked the rotation Lambda for a new version: {rotation.reason}"
            )
        requested = InFlight(self._clock().replace(microsecond=0), version=rotation.version)
        self._inflight[target.uid] = (requested, rotation.request)
