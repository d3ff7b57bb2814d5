"""Kubernetes Events, kopf-free: what a pass reports, which condition changes deserve one, and a gate.

The engine and the adapters tell the :class:`EventSink` on the :class:`~.protocol.Target` what
they changed (an AWS object created, updated or deleted, a rotation, a rollout, a final
snapshot). The handlers give each pass an :class:`EventBuffer`, add the condition transitions
(:func:`transitions`) and post what an :class:`EventGate` lets through. Transitions come from
the stored conditions, so a resync that changes nothing posts nothing, across restarts too; the
gate (per object, in memory) stops what a lost status write or a flapping object would repeat.
Messages are the condition and step messages, which never carry a secret value.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "NO_EVENTS",
    "Event",
    "EventBuffer",
    "EventGate",
    "EventSink",
    "EventType",
    "fit",
    "transitions",
]

EventType = Literal["Normal", "Warning"]

MESSAGE_BYTES = 1024
"""The API server's limit on an Event's message (events created with eventTime), in bytes of UTF-8."""


@dataclass(frozen=True)
class Event:
    type: EventType
    reason: str
    """CamelCase, as Kubernetes reasons are (``Created``, ``DeletionProtected``)."""
    message: str


class EventSink(Protocol):
    """Where the engine and the adapters report what a person would look for in ``kubectl describe``."""

    def emit(self, type_: EventType, reason: str, message: str) -> None: ...


class _NoEvents:
    def emit(self, type_: EventType, reason: str, message: str) -> None:
        """Dropped: a target built without a sink (unit tests, tools)."""


NO_EVENTS: EventSink = _NoEvents()


@dataclass
class EventBuffer:
    """Collects one pass's events (the pass runs on a worker thread; posting happens after it)."""

    events: list[Event] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def emit(self, type_: EventType, reason: str, message: str) -> None:
        with self._lock:
            self.events.append(Event(type_, reason, message))


def fit(message: str, limit: int = MESSAGE_BYTES) -> str:
    """The message, or its head and tail around "..." when its UTF-8 form is longer than ``limit`` bytes.

    kopf shortens to 1024 *characters*; the server counts bytes, so a long message with non-ASCII
    text (names, values quoted from a spec) would be refused and the Event lost.
    """
    data = message.encode()
    if len(data) <= limit:
        return message
    half = (limit - 3) // 2
    head = data[:half].decode(errors="ignore")
    tail = data[len(data) - (limit - 3 - half) :].decode(errors="ignore")
    return f"{head}...{tail}"


_WATCHED = ("Ready", "Terminal", "Recoverable")


def transitions(previous: Sequence[Mapping[str, Any]], current: Sequence[Mapping[str, Any]]) -> list[Event]:
    """Events for the conditions that became True, or changed reason while True.

    ``Ready`` gives a Normal ``Ready`` event; ``Terminal`` and ``Recoverable`` give a Warning whose
    reason is the condition's. A condition that stays as it was gives nothing, whatever its message.
    """
    old = {c.get("type"): c for c in previous}
    out: list[Event] = []
    for condition in current:
        kind = condition.get("type")
        if kind not in _WATCHED or condition.get("status") != "True":
            continue
        before = old.get(kind) or {}
        reason, message = str(condition.get("reason") or kind), str(condition.get("message") or "")
        if before.get("status") == "True" and before.get("reason") == reason:
            continue
        out.append(
            Event("Normal", "Ready", message or reason) if kind == "Ready" else Event("Warning", reason, message)
        )
    return out


class EventGate:
    """Per object: one identical event per ``repeat_seconds`` and generation, and a token bucket over all.

    The generation keeps a second, equal change (the same field edited twice) from passing for a repeat.

    The bucket's defaults are client-go's event spam filter (25 events at once, then one more every
    five minutes), so no object can flood the API whatever loop it is caught in.
    """

    def __init__(
        self,
        *,
        repeat_seconds: float = 600.0,
        burst: int = 25,
        refill_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.repeat_seconds = repeat_seconds
        self.burst = burst
        self.refill_seconds = refill_seconds
        self._clock = clock
        self._tokens = float(burst)
        self._filled_at = clock()
        self._last: dict[tuple[Event, int], float] = {}

    def admit(self, event: Event, generation: int = 0) -> bool:
        key, now = (event, generation), self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._filled_at) / self.refill_seconds)
        self._filled_at = now
        seen = self._last.get(key)
        if seen is not None and now - seen < self.repeat_seconds:
            return False
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        self._last = {e: t for e, t in self._last.items() if now - t < self.repeat_seconds}
        self._last[key] = now
        return True
