"""The base of every service façade: one timed, rate-limited, classified call path."""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any, ClassVar

from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from upskill_operator.aws.errors import classify, outcome_label
from upskill_operator.aws.session import AwsClients
from upskill_operator.metrics import AWS_CALL_SECONDS

__all__ = ["Facade"]


def _snake(operation: str) -> str:
    """boto3's method name: ``DescribeDBClusters`` -> ``describe_db_clusters`` (acronyms kept whole)."""
    return xform_name(operation)


class Facade:
    """Subclasses expose typed methods for exactly the operations the operator uses.

    ``operations`` lists them (AWS's PascalCase names): the IAM policy test reads it,
    so the policy can never drift from the code.
    """

    service: ClassVar[str]
    iam_prefix: ClassVar[str]
    operations: ClassVar[frozenset[str]]
    safe_messages: ClassVar[bool] = True

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients
        self._limiter = clients.limiter(self.service)
        self.region: str = clients.settings.region

    @property
    def _client(self) -> Any:
        """The service's boto3 client, built on first use: a table-only fleet never builds ec2's (16 MiB)."""
        return self._clients.client(self.service)

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call one AWS operation; raise NotFound, Terminal or Recoverable errors."""
        observers = tuple(self._clients.call_observers)
        if not observers:
            return self._call(operation, params)
        with ExitStack() as held:
            for observer in observers:
                held.enter_context(observer(self.service, operation))
            return self._call(operation, params)

    def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation not in self.operations:
            raise AssertionError(f"{type(self).__name__}.operations does not list {operation}")
        if self._limiter is not None:
            self._limiter.acquire()
        started = time.perf_counter()
        outcome = "error"  # anything raised that is not classified below is not a success either
        try:
            response: dict[str, Any] = getattr(self._client, _snake(operation))(**params)
            outcome = "success"  # only once botocore has parsed an answer without raising
            return response
        except (ClientError, BotoCoreError, ResponseParserError) as exc:
            error = classify(exc, self.service, operation, safe_message=self.safe_messages)
            outcome = outcome_label(error)
            raise error from None
        finally:
            AWS_CALL_SECONDS.labels(self.service, operation, outcome).observe(time.perf_counter() - started)

    def pages(self, operation: str, items: str, cursor: tuple[str, str], **params: Any) -> list[dict[str, Any]]:
        """Every item (under ``items``) of a paged read. ``cursor`` is (the answer's key of the next page's
        token, the request parameter it goes in), e.g. ``("Marker", "Marker")``; a repeated token ends it."""
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        answer_key, request_key = cursor
        while True:
            page = self.call(operation, **params)
            found.extend(page.get(items) or [])
            token = page.get(answer_key)
            if not token or token in seen:
                return found
            seen.add(token)
            params[request_key] = token
