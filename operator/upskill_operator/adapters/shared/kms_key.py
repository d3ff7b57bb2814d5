"""A read-only first step: the KMS key the spec names must exist before anything is created with it.

Without it, a database naming a missing alias would create its subnet group and security group
and only then stop at the cluster, and Secrets Manager accepts a missing key until the first
encrypt. The step resolves the key (cached by :class:`~upskill_operator.aws.kms.Kms`, so a resync
costs no call), publishes ``kmsKeyArn`` for later steps, and never writes: it reports an existing,
up-to-date object, or "nothing wanted" when the spec names no key or the resource is being deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from upskill_operator.adapters.shared.read_only import ReadOnlyStep
from upskill_operator.aws.kms import Kms, arn_scope
from upskill_operator.errors import NotFoundError, TerminalError
from upskill_operator.reconcile.protocol import Observation, Target

__all__ = ["KmsKeyAdapter", "spec_key_arn"]


def spec_key_arn(kms: Kms, field: str, key: str) -> str:
    """The ARN of the key a spec field names; Terminal ``KmsKeyNotFound`` naming the field when there is none.

    A key or alias ARN of another region or account is refused as such before any call: the
    services encrypt only with keys of their own region, and an alias name always resolves in
    the operator's account, so an ARN gets the same bounds.
    """
    scope = arn_scope(key)
    if scope is not None and scope[0] != kms.region:
        raise TerminalError(
            f"{field}: the ARN is in region {scope[0]}; the operator's resources are in {kms.region}",
            reason="KmsKeyElsewhere",
        )
    own = kms.account() if scope is not None and kms.account is not None else None
    if scope is not None and own is not None and scope[1] != own:
        raise TerminalError(
            f"{field}: the ARN belongs to account {scope[1]}, not to this account ({own})",
            reason="KmsKeyElsewhere",
        )
    try:
        return kms.key_arn(key)
    except NotFoundError:
        raise TerminalError(
            f"{field}: no KMS key or alias {key!r} in region {kms.region}", reason="KmsKeyNotFound"
        ) from None


_NOTHING = Observation(exists=False, up_to_date=True)


class KmsKeyAdapter(ReadOnlyStep):
    """Implements the reconcile ``Adapter`` protocol for a key the resource only reads."""

    name = "kms-key"

    def __init__(self, kms: Kms, field: str, key_of: Callable[[Target], str | None]) -> None:
        self.kms = kms
        self.field = field
        self.key_of = key_of

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        key = self.key_of(target)
        if key is None or target.deleting:  # deleting must never wait on, or fail for, a key
            return _NOTHING
        return Observation(exists=True, outputs={"kmsKeyArn": spec_key_arn(self.kms, self.field, key)})
