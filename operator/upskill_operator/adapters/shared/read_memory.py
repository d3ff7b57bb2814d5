"""What the last deep observe of an object found, so a resync can skip the reads that rarely change.

A resync always makes each object's cheap read (DescribeTable; a database's DescribeDBClusters
and DescribeDBInstances). The deep reads (a table's TTL, backups and tags; a database's network,
role, proxy, target group and endpoint) are remembered here per object (by uid) and made again
when the memory has been used ``max_uses`` times (one use a pass: a deep read every
``max_uses + 1`` passes) or is older than ``max_age`` (a backstop when passes are late), when the
spec changed, when what they depend on changed (the cheap read, or an earlier step's outputs), and
after every write. So drift in a deep-read field is repaired at the latest on the
``deep_read_every``-th pass after it happened, and passes come at least once a resync interval.

Entries are bounded by age: one older than ``max_age`` is useless and is swept away, so objects
that are gone leave nothing behind for long. ``max_age`` 0 or ``max_uses`` 0 remembers nothing
useful (every read, every pass).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

__all__ = ["Cadence", "Memory", "Remembered", "cadence"]

T = TypeVar("T")

_SWEEP_EVERY = 256
"""Sweep expired entries after this many remembers (each sweep is one pass over the dict)."""


@dataclass(frozen=True)
class Cadence:
    max_age: float
    max_uses: int


def cadence(every: int, resync_seconds: float) -> Cadence:
    """A deep read every ``every``-th pass of an object (counted), and at the latest after
    ``every + 1`` resync intervals (the backstop, should passes be late); ``every`` 1 reads every pass."""
    if every <= 1:
        return Cadence(0.0, 0)
    return Cadence((every + 1) * resync_seconds, every - 1)


@dataclass(frozen=True)
class Remembered(Generic[T]):
    value: T
    key: str
    """What the value was read under (the spec's generation, a digest of its inputs)."""
    read_at: float
    uses: int = 0
    """Passes that used it instead of reading again."""


class Memory(Generic[T]):
    """Per-object memory of deep reads, thread-safe (passes of different objects run in parallel)."""

    def __init__(
        self, max_age: float, clock: Callable[[], float] = time.monotonic, max_uses: int | None = None
    ) -> None:
        self.max_age = max_age
        self.max_uses = max_uses
        self._clock = clock
        self._entries: dict[str, Remembered[T]] = {}
        self._lock = threading.RLock()
        self._since_sweep = 0

    def recall(self, uid: str, key: str | None = None) -> Remembered[T] | None:
        """The entry, counted as one use, while it stands (and was read under ``key``, when given)."""
        with self._lock:
            entry = self.peek(uid)
            if entry is None or (self.max_uses is not None and entry.uses >= self.max_uses):
                return None
            if key is not None and entry.key != key:
                return None
            entry = replace(entry, uses=entry.uses + 1)
            self._entries[uid] = entry
            return entry

    def peek(self, uid: str) -> Remembered[T] | None:
        """The entry younger than ``max_age``, without counting a use."""
        entry = self._entries.get(uid)
        if entry is None or self._clock() - entry.read_at >= self.max_age:
            return None
        return entry

    def remember(self, uid: str, key: str, value: T, carried: Remembered[T] | None = None) -> None:
        """Record ``value``; with ``carried`` its read time and uses are kept (facts carried over, not read)."""
        if self.max_age <= 0:
            return
        now = self._clock()
        with self._lock:
            if carried is None:
                self._entries[uid] = Remembered(value, key, now)
            else:
                self._entries[uid] = Remembered(value, key, carried.read_at, carried.uses)
            self._since_sweep += 1
            if self._since_sweep >= _SWEEP_EVERY:
                self._since_sweep = 0
                expired = [u for u, e in self._entries.items() if now - e.read_at >= self.max_age]
                for stale in expired:
                    del self._entries[stale]

    def forget(self, uid: str) -> None:
        with self._lock:
            self._entries.pop(uid, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
