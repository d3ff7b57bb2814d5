"""Traffic bookkeeping for tests: a log of served requests and injectable faults.

Both are used from the test's thread while the server runs on its own, hence the locks.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import attrs

from upskill_sandbox import kube_errors

__all__ = ["Fault", "FaultInjector", "RequestLog"]

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class RequestLog:
    """Every request served, as ``(METHOD, path)`` without the query string, in arrival order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[str, str]] = []

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self._entries.append((method.upper(), path))

    def snapshot(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.snapshot())

    def count(self, method: str | None = None, path: str | re.Pattern[str] | None = None) -> int:
        """How many requests had this method (any if None) and a path matching the regex (searched)."""
        pattern = re.compile(path) if isinstance(path, str) else path
        return sum(
            1
            for m, p in self.snapshot()
            if (method is None or m == method.upper()) and (pattern is None or pattern.search(p))
        )

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@attrs.define
class Fault:
    """The next ``times`` requests matching ``method`` and ``path`` fail (or, for watches, get cut)."""

    method: str
    path: re.Pattern[str]
    status: int = 500
    times: int = 1
    drop_watch: bool = False
    message: str = "injected fault"
    hits: int = 0

    def error(self) -> kube_errors.ApiError:
        reason = _REASONS.get(self.status, "InternalError")
        headers = {"Retry-After": "1"} if self.status in (429, 503) else {}
        return kube_errors.ApiError(self.status, reason, self.message, {}, headers)


class FaultInjector:
    """Faults waiting to hit; each is consumed request by request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str, *, watch: bool) -> Fault | None:
        """Consume one hit of the first matching fault, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.hits >= fault.times or (fault.drop_watch and not watch):
                    continue
                if fault.method in ("*", method.upper()) and fault.path.search(path):
                    fault.hits += 1
                    return fault
        return None
