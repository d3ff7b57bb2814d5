"""The boto3 session and clients, configured once from settings.

Clients use botocore's standard retry mode (backoff with jitter and a retry
quota), the endpoint from settings (AWS or an emulator), and a client-side rate
limit per service. The observers given to :class:`AwsClients` see every HTTP attempt at the
botocore layer, and every logical call of a façade: the test bed counts, fails and attributes
calls with them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import boto3
from botocore.config import Config

from upskill_operator import __version__
from upskill_operator.config import AwsSettings
from upskill_operator.metrics import AWS_ATTEMPTS_TOTAL

__all__ = ["AttemptObserver", "AwsClients", "CallObserver", "RateLimiter"]

AttemptObserver = Callable[[str, str], Any]
"""Called with (service, operation) before every HTTP attempt, retries included.

An observer may return a botocore ``AWSResponse`` to answer the attempt itself:
that is how fault-injection tests fail calls after real request serialisation.
"""

CallObserver = Callable[[str, str], AbstractContextManager[object]]
"""Called with (service, operation) for every logical call (:meth:`Facade.call`); the context it
returns is held around the call, however many attempts botocore makes."""


class RateLimiter:
    """A token bucket shared by every thread calling one service."""

    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self._tokens = self.capacity
        self._clock = clock
        self._stamp = clock()
        self._lock = threading.Lock()

    def delay(self) -> float:
        """Take a token; return how long the caller must sleep before using it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self, sleep: Callable[[float], None] = time.sleep) -> None:
        wait = self.delay()
        if wait > 0:
            sleep(wait)


class AwsClients:
    """A lazily built, thread-safe cache of boto3 clients sharing one session and config.

    ``attempts`` and ``calls`` are read on every attempt and call, so observers may join a list
    (and leave it) while the clients live.
    """

    def __init__(
        self,
        settings: AwsSettings,
        *,
        attempts: Sequence[AttemptObserver] = (),
        calls: Sequence[CallObserver] = (),
    ) -> None:
        self.settings = settings
        self.attempt_observers = attempts
        self.call_observers = calls
        secret = settings.secret_access_key
        if settings.access_key_id and secret is not None:
            self._session = boto3.session.Session(
                region_name=settings.region,
                aws_access_key_id=settings.access_key_id,
                aws_secret_access_key=secret.get_secret_value(),
            )
        else:
            self._session = boto3.session.Session(region_name=settings.region)
        self._config = Config(
            retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
            connect_timeout=settings.connect_timeout_seconds,
            read_timeout=settings.read_timeout_seconds,
            user_agent_extra=f"upskill-operator/{__version__}",
            max_pool_connections=32,
        )
        self._clients: dict[str, Any] = {}
        self._limiters: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        built = self._clients.get(service)  # the hot path: no lock once the client exists
        if built is not None:
            return built
        with self._lock:
            if service not in self._clients:
                client = self._session.client(
                    service,
                    endpoint_url=self.settings.endpoint_url,
                    config=self._config,  # type: ignore[call-overload]
                )
                client.meta.events.register("before-send", self._notify)
                self._clients[service] = client
            return self._clients[service]

    def _notify(self, event_name: str, **_: Any) -> Any:
        # event_name is "before-send.<service-id>.<Operation>"
        service, operation = event_name.split(".", 2)[1:]
        AWS_ATTEMPTS_TOTAL.labels(service, operation).inc()
        for observer in tuple(self.attempt_observers):  # observers may join from other threads
            response = observer(service, operation)
            if response is not None:
                return response
        return None

    @property
    def built(self) -> frozenset[str]:
        """The services whose client exists so far (each is built when first called)."""
        return frozenset(self._clients)

    def limiter(self, service: str) -> RateLimiter | None:
        rate = self.settings.calls_per_second.get(service)
        if not rate:
            return None
        with self._lock:
            return self._limiters.setdefault(service, RateLimiter(rate))
