"""The Secrets Manager façade: the only code that sees secret values as plain strings, and only in passing.

Values go in and come out as pydantic ``SecretStr``: their ``repr`` and ``str`` are
``**********``, so a value cannot reach a log line, an exception message or a status by
accident. ``safe_messages`` is off: Secrets Manager error messages may echo request
content, so only the error code is kept. Constructing the façade also pins the wire
loggers (see :mod:`upskill_operator.wire_logs`): botocore's DEBUG output carries request
and response bodies, and those hold secret values.

Every write takes a ``ClientRequestToken`` chosen by the caller (derived from the
resource's uid and the content or intent, see ``adapters/secret/values.py``): Secrets
Manager makes that token the version id, so a retried write never creates a second version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from upskill_operator.aws.base import Facade
from upskill_operator.aws.session import AwsClients
from upskill_operator.models.tags import tag_list
from upskill_operator.wire_logs import quiet_wire_loggers

__all__ = ["PasswordPolicy", "SecretValue", "SecretsManager"]

AwsDict = dict[str, Any]


@dataclass(frozen=True)
class SecretValue:
    """One version of a secret, as GetSecretValue returned it."""

    value: SecretStr
    version_id: str
    stages: tuple[str, ...]
    created: dt.datetime | None


@dataclass(frozen=True)
class PasswordPolicy:
    """GetRandomPassword's parameters."""

    length: int
    exclude_characters: str = ""
    exclude_numbers: bool = False
    exclude_punctuation: bool = False
    exclude_uppercase: bool = False
    exclude_lowercase: bool = False
    include_space: bool = False
    require_each_included_type: bool = True


class SecretsManager(Facade):
    """Typed Secrets Manager calls: secrets, versions and stages, rotation configuration, tags, deletion."""

    service = "secretsmanager"
    iam_prefix = "secretsmanager"
    safe_messages = False
    operations = frozenset(
        {
            "CancelRotateSecret",
            "CreateSecret",
            "DeleteSecret",
            "DescribeSecret",
            "GetRandomPassword",
            "GetSecretValue",
            "ListSecretVersionIds",
            "PutSecretValue",
            "RestoreSecret",
            "RotateSecret",
            "TagResource",
            "UntagResource",
            "UpdateSecret",
            "UpdateSecretVersionStage",
        }
    )

    def __init__(self, clients: AwsClients) -> None:
        quiet_wire_loggers()
        super().__init__(clients)

    def describe_secret(self, secret_id: str) -> AwsDict:
        """Metadata, tags, rotation and ``VersionIdsToStages``; also for a secret scheduled for deletion
        (``DeletedDate`` set). Raises ``AwsNotFoundError`` when there is no such secret."""
        return self.call("DescribeSecret", SecretId=secret_id)

    def create_secret(
        self,
        name: str,
        *,
        value: SecretStr,
        token: str,
        kms_key_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> AwsDict:
        """Create the secret with its first version (AWSCURRENT) and its tags in one call, so it is never untagged."""
        params: AwsDict = {"Name": name, "ClientRequestToken": token, "SecretString": value.get_secret_value()}
        if kms_key_id:
            params["KmsKeyId"] = kms_key_id
        if description:
            params["Description"] = description
        if tags:
            params["Tags"] = tag_list(dict(sorted(tags.items())))
        return self.call("CreateSecret", **params)

    def put_secret_value(
        self, secret_id: str, *, value: SecretStr, token: str, stages: tuple[str, ...] | None = None
    ) -> AwsDict:
        """A new version, labelled AWSCURRENT (the former one becomes AWSPREVIOUS), or ``stages``.

        ``stages=("AWSPENDING",)`` stores a version clients do not read yet (a credential that is
        set on the database before it becomes current). Repeating the call with the same token and
        value is a no-op; the same token with another value fails (``ResourceExistsException``):
        a version is never modified.
        """
        params: AwsDict = {"SecretId": secret_id, "ClientRequestToken": token, "SecretString": value.get_secret_value()}
        if stages is not None:
            params["VersionStages"] = list(stages)
        return self.call("PutSecretValue", **params)

    def get_secret_value(
        self, secret_id: str, *, version_id: str | None = None, stage: str | None = None
    ) -> SecretValue:
        """One version's value (AWSCURRENT unless a version or stage is given)."""
        params: AwsDict = {"SecretId": secret_id}
        if version_id:
            params["VersionId"] = version_id
        if stage:
            params["VersionStage"] = stage
        raw = self.call("GetSecretValue", **params)
        created = raw.get("CreatedDate")
        return SecretValue(
            value=SecretStr(str(raw.get("SecretString") or "")),
            version_id=str(raw["VersionId"]),
            stages=tuple(raw.get("VersionStages") or ()),
            created=created if isinstance(created, dt.datetime) else None,
        )

    def list_secret_version_ids(self, secret_id: str, *, include_deprecated: bool = False) -> list[AwsDict]:
        """Every version (``VersionId``, ``VersionStages``, ``CreatedDate``), following NextToken."""
        versions: list[AwsDict] = []
        token: str | None = None
        seen: set[str] = set()
        while True:
            params: AwsDict = {"SecretId": secret_id, "IncludeDeprecated": include_deprecated, "MaxResults": 100}
            if token:
                params["NextToken"] = token
            page = self.call("ListSecretVersionIds", **params)
            versions.extend(page.get("Versions") or ())
            token = page.get("NextToken")
            if not token or token in seen:
                return versions
            seen.add(token)

    def update_secret_version_stage(
        self, secret_id: str, *, stage: str, move_to: str | None, remove_from: str | None
    ) -> None:
        """Move a staging label; moving AWSCURRENT makes AWS label the version it left AWSPREVIOUS."""
        params: AwsDict = {"SecretId": secret_id, "VersionStage": stage}
        if move_to:
            params["MoveToVersionId"] = move_to
        if remove_from:
            params["RemoveFromVersionId"] = remove_from
        self.call("UpdateSecretVersionStage", **params)

    def get_random_password(self, policy: PasswordPolicy) -> SecretStr:
        """Secrets Manager's own generator (a cryptographically secure source in AWS)."""
        params: AwsDict = {
            "PasswordLength": policy.length,
            "ExcludeNumbers": policy.exclude_numbers,
            "ExcludePunctuation": policy.exclude_punctuation,
            "ExcludeUppercase": policy.exclude_uppercase,
            "ExcludeLowercase": policy.exclude_lowercase,
            "IncludeSpace": policy.include_space,
            "RequireEachIncludedType": policy.require_each_included_type,
        }
        if policy.exclude_characters:
            params["ExcludeCharacters"] = policy.exclude_characters
        return SecretStr(str(self.call("GetRandomPassword", **params)["RandomPassword"]))

    def update_secret(self, secret_id: str, *, description: str | None = None, kms_key_id: str | None = None) -> None:
        """Metadata only (no value is sent, so no version is created)."""
        params: AwsDict = {"SecretId": secret_id}
        if description is not None:
            params["Description"] = description
        if kms_key_id is not None:
            params["KmsKeyId"] = kms_key_id
        if len(params) == 1:
            raise ValueError("update_secret called with nothing to change")
        self.call("UpdateSecret", **params)

    def tag_resource(self, secret_id: str, tags: Mapping[str, str]) -> None:
        if tags:
            self.call("TagResource", SecretId=secret_id, Tags=tag_list(dict(sorted(tags.items()))))

    def untag_resource(self, secret_id: str, keys: Collection[str]) -> None:
        if keys:
            self.call("UntagResource", SecretId=secret_id, TagKeys=sorted(keys))

    def delete_secret(self, secret_id: str, *, recovery_window_days: int | None = None, force: bool = False) -> None:
        """Schedule deletion after a 7-30 day recovery window, or delete at once and unrecoverably (``force``)."""
        if force:
            self.call("DeleteSecret", SecretId=secret_id, ForceDeleteWithoutRecovery=True)
        else:
            self.call("DeleteSecret", SecretId=secret_id, RecoveryWindowInDays=recovery_window_days or 30)

    def restore_secret(self, secret_id: str) -> None:
        """Cancel a scheduled deletion: the secret, its versions and its tags come back."""
        self.call("RestoreSecret", SecretId=secret_id)

    def rotate_secret(
        self,
        secret_id: str,
        *,
        lambda_arn: str,
        rules: Mapping[str, Any],
        rotate_immediately: bool,
        token: str | None = None,
    ) -> None:
        """Configure AWS rotation with a Lambda (``rotate_immediately=False``), or also rotate now.

        ``rules`` is AWS's ``RotationRules`` (``AutomaticallyAfterDays`` or ``ScheduleExpression``).
        With ``token``, the Lambda creates the new version under that id.
        """
        params: AwsDict = {
            "SecretId": secret_id,
            "RotationLambdaARN": lambda_arn,
            "RotationRules": dict(rules),
            "RotateImmediately": rotate_immediately,
        }
        if token:
            params["ClientRequestToken"] = token
        self.call("RotateSecret", **params)

    def cancel_rotate_secret(self, secret_id: str) -> None:
        """Turn AWS rotation off (the Lambda configuration is kept by AWS but not used)."""
        self.call("CancelRotateSecret", SecretId=secret_id)
