"""The STS façade: which account the operator's credentials belong to.

A key ARN names its account; comparing it with ours refuses a key of another account before any
write, the way an alias (always resolved in our own account) is. GetCallerIdentity needs no IAM
permission; the answer is cached for the life of the process (credentials do not change account).
"""

from __future__ import annotations

import threading

from upskill_operator.aws.base import Facade
from upskill_operator.aws.session import AwsClients

__all__ = ["Sts"]


class Sts(Facade):
    """The caller's account id, looked up once."""

    service = "sts"
    iam_prefix = "sts"
    operations = frozenset({"GetCallerIdentity"})

    def __init__(self, clients: AwsClients) -> None:
        super().__init__(clients)
        self._account: str | None = None
        self._lock = threading.Lock()

    def account_id(self) -> str:
        with self._lock:
            if self._account is None:
                self._account = str(self.call("GetCallerIdentity")["Account"])
            return self._account
