"""Fault injection between botocore and the emulator, after real request serialisation.

A :class:`FaultInjector` is an attempt observer (``AwsClients(attempts=...)``, or a runtime's ``Hooks``):
botocore has already built and signed the HTTP request when it is consulted, and
it either lets the attempt through or answers it with a fault:

- ``throttle``: HTTP 400 with the service's own throttling code, in the
  service's own error format (JSON, XML), so botocore parses it as AWS's;
- ``500`` / ``503``: server errors with an empty body;
- ``reset`` / ``timeout``: ``ConnectionClosedError`` / ``ReadTimeoutError`` raised
  from the send step, exactly where urllib3 would raise them.

botocore's standard retry mode sees these as it sees real ones. The faults are
injected before the request reaches the emulator, so a "timeout" here never
hides a request the server did process (a real timeout can); that case is the
crash tests' business.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, cast

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

__all__ = ["FaultInjector"]

_JSON = {"dynamodb", "secrets-manager", "kms", "cloudwatch"}
"""Services (as botocore's hyphenated service ids, which observers receive) that answer errors in JSON."""
_THROTTLE_CODE = {"dynamodb": "ThrottlingException", "ec2": "RequestLimitExceeded", "cloudwatch": "Throttling"}
_QUERY_COMPATIBLE = {"cloudwatch"}
"""JSON services botocore calls in query-compatible mode (``x-amzn-query-mode``): CloudWatch."""
_URL = "https://emulated.fault/"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: object) -> Iterator[bytes]:
        yield self._body


def _throttle(service: str) -> AWSResponse:
    code = _THROTTLE_CODE.get(service, "ThrottlingException" if service in _JSON else "Throttling")
    if service in _JSON:
        body = json.dumps({"__type": code, "message": "Rate exceeded (injected)"}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}
        if service in _QUERY_COMPATIBLE:  # the query-era code, as AWS sends it beside the JSON error
            headers["x-amzn-query-error"] = f"{code};Sender"
    elif service == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>Rate exceeded (injected)</Message>"
            "</Error></Errors><RequestID>fault</RequestID></Response>"
        ).encode()
        headers = {"Content-Type": "text/xml"}
    else:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            "<Message>Rate exceeded (injected)</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml"}
    return AWSResponse(_URL, 400, cast(Any, headers), _Raw(body))


class FaultInjector:
    """Fails a share of attempts at random (seeded, so a failing run can be replayed)."""

    KINDS = ("throttle", "500", "503", "reset", "timeout")

    def __init__(
        self, rate: float, *, seed: int = 0, kinds: Sequence[str] = KINDS, services: Sequence[str] | None = None
    ) -> None:
        unknown = set(kinds) - set(self.KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.rate = rate
        self.kinds = tuple(kinds)
        self.services = set(services) if services else None
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.attempts: Counter[tuple[str, str]] = Counter()
        self.injected: Counter[str] = Counter()

    def _pick(self, service: str, operation: str) -> str | None:
        with self._lock:
            self.attempts[(service, operation)] += 1
            if self.services is not None and service not in self.services:
                return None
            if self._random.random() >= self.rate:
                return None
            kind = self._random.choice(self.kinds)
            self.injected[kind] += 1
            return kind

    def __call__(self, service: str, operation: str) -> AWSResponse | None:
        kind = self._pick(service, operation)
        if kind is None:
            return None
        if kind == "reset":
            raise ConnectionClosedError(endpoint_url=_URL)
        if kind == "timeout":
            raise ReadTimeoutError(endpoint_url=_URL)
        if kind == "throttle":
            return _throttle(service)
        return AWSResponse(_URL, int(kind), cast(Any, {}), _Raw(b""))
