"""A Secrets Manager secret as the adapter sees it, and the metadata part of its diff (pure).

:func:`observed_secret` parses DescribeSecret; :func:`metadata_plan` compares tags, description,
KMS key and the AWS rotation configuration with the spec. The value and rotation decisions
live in :mod:`.secret_rotation`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.models.secret import SecretSpec
from upskill_operator.models.tags import keys_after, tag_changes, tag_dict

__all__ = [
    "DEFAULT_KMS_ALIAS",
    "POLICY_TAG",
    "AwsRotation",
    "MetadataPlan",
    "ObservedSecret",
    "desired_rotation",
    "metadata_plan",
    "observed_secret",
]

POLICY_TAG = "upskill.io/generator"
"""Tag holding a digest of a generated value's policy: a different policy means a new value."""
DEFAULT_KMS_ALIAS = "alias/aws/secretsmanager"


@dataclass(frozen=True)
class AwsRotation:
    """AWS-driven rotation: a Lambda and its schedule."""

    lambda_arn: str
    rules: Mapping[str, Any]


@dataclass(frozen=True)
class ObservedSecret:
    name: str
    arn: str
    deleted: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None
    kms_key: str | None = None
    rotation: AwsRotation | None = None
    """The AWS rotation configuration while RotationEnabled is true."""
    next_rotation: dt.datetime | None = None
    last_rotated: dt.datetime | None = None
    stages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def labelled(self, stage: str) -> str | None:
        return next((version for version, stages in self.stages.items() if stage in stages), None)

    @property
    def current_id(self) -> str | None:
        return self.labelled("AWSCURRENT")

    @property
    def previous_id(self) -> str | None:
        return self.labelled("AWSPREVIOUS")


def _time(value: Any) -> dt.datetime | None:
    return value if isinstance(value, dt.datetime) else None


def observed_secret(raw: Mapping[str, Any]) -> ObservedSecret:
    """Parse DescribeSecret (a deleted secret included: ``DeletedDate`` is set)."""
    rules = {k: v for k, v in (raw.get("RotationRules") or {}).items() if v not in (None, 0, "")}
    rotation = None
    if raw.get("RotationEnabled") and raw.get("RotationLambdaARN"):
        rotation = AwsRotation(str(raw["RotationLambdaARN"]), rules)
    return ObservedSecret(
        name=str(raw["Name"]),
        arn=str(raw["ARN"]),
        deleted=raw.get("DeletedDate") is not None,
        tags=tag_dict(raw.get("Tags")),
        description=raw.get("Description") or None,
        kms_key=raw.get("KmsKeyId") or None,
        rotation=rotation,
        next_rotation=_time(raw.get("NextRotationDate")),
        last_rotated=_time(raw.get("LastRotatedDate")),
        stages={version: tuple(stages) for version, stages in (raw.get("VersionIdsToStages") or {}).items()},
    )


def desired_rotation(spec: SecretSpec) -> AwsRotation | None:
    """The AWS rotation the spec asks for: only with a Lambda (otherwise the operator rotates)."""
    rotation = spec.rotation
    if rotation is None or not rotation.enabled or rotation.lambda_arn is None:
        return None
    if rotation.every_days is not None:
        return AwsRotation(rotation.lambda_arn, {"AutomaticallyAfterDays": rotation.every_days})
    return AwsRotation(rotation.lambda_arn, {"ScheduleExpression": rotation.schedule_expression})


def _same_rotation(wanted: AwsRotation, observed: AwsRotation | None) -> bool:
    """Same Lambda, and every rule asked for is in place (AWS may report more, such as a Duration)."""
    return (
        observed is not None
        and observed.lambda_arn == wanted.lambda_arn
        and all(observed.rules.get(key) == value for key, value in wanted.rules.items())
    )


@dataclass(frozen=True)
class MetadataPlan:
    diff: tuple[str, ...] = ()
    tags_to_set: Mapping[str, str] = field(default_factory=dict)
    tags_to_remove: tuple[str, ...] = ()
    managed_tag_keys: tuple[str, ...] = ()
    description: str | None = None
    kms_key: str | None = None
    configure_rotation: AwsRotation | None = None
    cancel_rotation: bool = False


def metadata_plan(
    spec: SecretSpec,
    observed: ObservedSecret,
    tags: Mapping[str, str],
    managed_before: Collection[str],
    same_key: Any,
) -> MetadataPlan:
    """What differs besides the value. ``same_key(wanted, reported)`` compares KMS key references."""
    diff: list[str] = []
    to_set, to_remove = tag_changes(tags, observed.tags, managed_before)
    if to_set or to_remove:
        diff.append("tags")
    description = spec.description if spec.description and spec.description != observed.description else None
    if description is not None:
        diff.append("spec.description")
    kms_key = None
    if spec.kms_key_id and not same_key(spec.kms_key_id, observed.kms_key):
        kms_key = spec.kms_key_id
    elif not spec.kms_key_id and observed.kms_key and not same_key(DEFAULT_KMS_ALIAS, observed.kms_key):
        kms_key = DEFAULT_KMS_ALIAS
    if kms_key is not None:
        diff.append("spec.kmsKeyId")
    wanted = desired_rotation(spec)
    configure = wanted if wanted is not None and not _same_rotation(wanted, observed.rotation) else None
    cancel = wanted is None and observed.rotation is not None
    if configure or cancel:
        diff.append("spec.rotation")
    return MetadataPlan(
        diff=tuple(diff),
        tags_to_set=to_set,
        tags_to_remove=to_remove,
        managed_tag_keys=keys_after(tags, to_remove),
        description=description,
        kms_key=kms_key,
        configure_rotation=configure,
        cancel_rotation=cancel,
    )
