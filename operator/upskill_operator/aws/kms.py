"""The KMS façade: resolve any key reference to the key's ARN.

Specs name keys the way people do (``alias/upskill``), while DynamoDB reports the
key ARN. Comparing through :meth:`Kms.key_arn` keeps that from looking like drift.
Answers are cached per façade instance (one per operator process) for a while,
so a steady-state resync costs no KMS call; the time limit lets a re-pointed alias
be noticed eventually.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from upskill_operator.aws.base import Facade
from upskill_operator.aws.session import AwsClients

__all__ = ["KEY_ARN", "Kms"]

KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+")
"""A key ARN already is the answer: no call needed."""


class Kms(Facade):
    """Key lookups for SSE comparisons."""

    service = "kms"
    iam_prefix = "kms"
    operations = frozenset({"DescribeKey"})

    def __init__(
        self, clients: AwsClients, *, cache_seconds: float = 600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(clients)
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def key_arn(self, key_id: str) -> str:
        """The ARN of the key that ``key_id`` (key id, key ARN, alias name or alias ARN) refers to.

        Raises ``AwsNotFoundError`` when there is no such key or alias.
        """
        if KEY_ARN.fullmatch(key_id):
            return key_id
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key_id)
        if hit is not None and now - hit[0] < self._cache_seconds:
            return hit[1]
        arn = str(self.call("DescribeKey", KeyId=key_id)["KeyMetadata"]["Arn"])
        with self._lock:
            self._cache[key_id] = (now, arn)
        return arn
