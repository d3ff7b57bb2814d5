"""Our Secrets Manager extension of moto 5.2.5, for the tests: AWS's rotation behaviour where moto's breaks.

:func:`install` replaces four methods of moto's Secrets Manager backend in this process, so the
moto server (a thread of the test process) answers differently; requests still go through
botocore's serialisation, moto's HTTP dispatch and botocore's response parsing. The operator
never imports this module.

What is emulated, exactly:

- ``RotateSecret`` with a Lambda records the configuration as AWS reports it afterwards:
  ``RotationEnabled``, ``RotationLambdaARN``, ``RotationRules`` (``AutomaticallyAfterDays`` or
  ``ScheduleExpression``) and a ``NextRotationDate``. No Lambda runs and no version changes.
  moto instead invoked the function through its Lambda backend (which needs Docker, and fails
  with ResourceNotFoundException for a function it does not know) and, rotating immediately,
  made an empty version AWSCURRENT, leaving the secret unreadable.
- ``RotateSecret`` with ``RotateImmediately`` (the default) also appends ``(secret name, token)``
  to :data:`ROTATION_REQUESTS`: a test then plays the Lambda's part by writing the new version
  with that token (``put_secret_value(ClientRequestToken=token)``), as a real Lambda's
  createSecret/finishSecret steps would.
- ``UpdateSecretVersionStage`` moving ``AWSCURRENT`` also changes the version GetSecretValue
  returns when no version is named, as AWS does (moto kept returning the former one).
- ``ListSecretVersionIds`` reports each version's own ``CreatedDate`` (moto reported the time of
  the call for every version).
- ``DescribeSecret`` reports ``LastAccessedDate``, the day (midnight UTC) of the last successful
  ``GetSecretValue``, and omits it for a secret never retrieved, as AWS does (moto always sent
  null). Tests read it to prove a secret's value was never read.

:func:`age_versions` moves a secret's version creation times into the past, so a test can make a
rotation (counted from the current version's creation) due without waiting days.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from moto.secretsmanager import models
from moto.secretsmanager.exceptions import InvalidRequestException, SecretNotFoundException

__all__ = ["ROTATION_REQUESTS", "age_versions", "install"]

ROTATION_REQUESTS: list[tuple[str, str | None]] = []
"""(secret name, ClientRequestToken) of every RotateSecret that asked to rotate immediately."""

_LOCK = threading.Lock()
_installed = False


def _rotate_secret(
    self: Any,
    secret_id: str,
    client_request_token: str | None = None,
    rotation_lambda_arn: str | None = None,
    rotation_rules: dict[str, Any] | None = None,
    rotate_immediately: bool = True,
) -> str:
    if not self._is_valid_identifier(secret_id):
        raise SecretNotFoundException()
    secret = self.secrets[secret_id]
    if secret.is_deleted():
        raise InvalidRequestException("You can't perform this operation on a secret that's marked for deletion.")
    lambda_arn = rotation_lambda_arn or secret.rotation_lambda_arn
    if not lambda_arn:
        raise InvalidRequestException("No Lambda rotation function ARN is associated with this secret.")
    rules = {k: v for k, v in (rotation_rules or getattr(secret, "_upskill_rules", {})).items() if v}
    secret.rotation_requested = True
    secret.rotation_enabled = True
    secret.rotation_lambda_arn = lambda_arn
    secret.auto_rotate_after_days = int(rules.get("AutomaticallyAfterDays") or 0)
    secret._upskill_rules = rules
    days = secret.auto_rotate_after_days or 1
    secret.next_rotation_date = int(time.time()) + days * 86400
    if rotate_immediately:
        with _LOCK:
            ROTATION_REQUESTS.append((secret.name, client_request_token))
        secret.last_rotation_date = int(time.time())
    return str(secret.to_short_dict(include_version_id=False))


def _to_dict(self: Any) -> dict[str, Any]:
    out: dict[str, Any] = _original_to_dict(self)
    rules = getattr(self, "_upskill_rules", None)
    if rules and "RotationRules" in out:
        out["RotationRules"] = dict(rules)
    accessed = getattr(self, "_upskill_accessed", None)
    if accessed is None:
        out.pop("LastAccessedDate", None)
    else:
        out["LastAccessedDate"] = accessed
    return out


def _get_secret_value(self: Any, secret_id: str, version_id: str, version_stage: str) -> dict[str, Any]:
    found: dict[str, Any] = _original_get_value(self, secret_id, version_id, version_stage)
    now = int(time.time())
    self.secrets[secret_id]._upskill_accessed = now - now % 86400  # AWS keeps the date only
    return found


def _list_secret_version_ids(self: Any, secret_id: str) -> str:
    secret = self.secrets[secret_id]
    versions = [
        {
            "CreatedDate": version.get("createdate"),
            "VersionId": version_id,
            "VersionStages": version["version_stages"],
        }
        for version_id, version in secret.versions.items()
    ]
    return json.dumps({"ARN": secret.arn, "Name": secret.name, "Versions": versions})


_original_to_dict = models.FakeSecret.to_dict
_original_get_value = models.SecretsManagerBackend.get_secret_value
_original_update_stage = models.SecretsManagerBackend.update_secret_version_stage


def _update_secret_version_stage(
    self: Any, secret_id: str, version_stage: str, remove_from_version_id: str, move_to_version_id: str
) -> tuple[str, str]:
    result: tuple[str, str] = _original_update_stage(
        self, secret_id, version_stage, remove_from_version_id, move_to_version_id
    )
    if version_stage == "AWSCURRENT" and move_to_version_id:
        self.secrets[secret_id].set_default_version_id(move_to_version_id)
    return result


def install() -> None:
    """Patch moto's backend in this process (idempotent)."""
    global _installed
    with _LOCK:
        if _installed:
            return
        models.SecretsManagerBackend.rotate_secret = _rotate_secret  # type: ignore[method-assign]
        models.SecretsManagerBackend.list_secret_version_ids = _list_secret_version_ids  # type: ignore[method-assign]
        models.FakeSecret.to_dict = _to_dict  # type: ignore[method-assign]
        models.SecretsManagerBackend.get_secret_value = _get_secret_value  # type: ignore[method-assign]
        models.SecretsManagerBackend.update_secret_version_stage = _update_secret_version_stage  # type: ignore[method-assign]
        _installed = True


def age_versions(name: str, seconds: float, *, region: str, account_id: str = "123456789012") -> None:
    """Pretend every version of the secret was created ``seconds`` earlier than it was."""
    backend = models.secretsmanager_backends[account_id][region]
    secret = backend.secrets[name]
    for version in secret.versions.values():
        version["createdate"] = int(version["createdate"] - seconds)
