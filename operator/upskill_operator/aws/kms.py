"""The KMS façade: resolve any key reference to the key's ARN.

Specs name keys the way people do (``alias/upskill``), while DynamoDB reports the
key ARN. Comparing through :meth:`Kms.key_arn` keeps that from looking like drift.
Every form is described, key ARNs included, so a key that does not exist is found before
anything is created with it. Answers are cached per façade instance (one per operator
process) for a while, so a steady-state resync costs no KMS call; the time limit lets a
re-pointed alias be noticed eventually.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from upskill_operator.aws.base import Facade
from upskill_operator.aws.session import AwsClients
from upskill_operator.aws.sts import Sts

__all__ = ["Kms", "arn_scope"]
_KMS_ARN = re.compile(r"arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(key|alias)/.+")


def arn_scope(key_id: str) -> tuple[str, str] | None:
    """(region, account) of a key or alias ARN; None for a key id or an alias name."""
    found = _KMS_ARN.fullmatch(key_id)
    return (found.group(1), found.group(2)) if found else None


class Kms(Facade):
    """Key lookups for SSE comparisons."""

    service = "kms"
    iam_prefix = "kms"
    operations = frozenset({"DescribeKey"})

    def __init__(
        self,
        clients: AwsClients,
        *,
        cache_seconds: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        account: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(clients)
        self.account = account
        """The operator's own account id (see :class:`~upskill_operator.aws.sts.Sts`); None: not checked."""
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    @classmethod
    def in_own_account(cls, clients: AwsClients) -> Kms:
        """The façade the operator uses: key ARNs are checked against the caller's account."""
        return cls(clients, account=Sts(clients).account_id)

    def key_arn(self, key_id: str) -> str:
        """The ARN of the key that ``key_id`` (key id, key ARN, alias name or alias ARN) refers to.

        Raises ``AwsNotFoundError`` when there is no such key or alias.
        """
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key_id)
        if hit is not None and now - hit[0] < self._cache_seconds:
            return hit[1]
        arn = str(self.call("DescribeKey", KeyId=key_id)["KeyMetadata"]["Arn"])
        with self._lock:
            self._cache[key_id] = (now, arn)
        return arn

    def key_state(self, key_id: str) -> str:
        """The key's ``KeyState`` now (``Enabled``, ``Disabled``, ``PendingDeletion``, ...), never cached:
        asked once before a restore. Raises ``AwsNotFoundError`` when there is no such key."""
        return str(self.call("DescribeKey", KeyId=key_id)["KeyMetadata"].get("KeyState") or "Unknown")
