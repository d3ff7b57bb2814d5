"""What the last deep observe of an object found, so a resync can skip the reads that rarely change.

A resync always makes each object's cheap read (DescribeTable; a database's DescribeDBClusters
and DescribeDBInstances). The deep reads (a table's TTL, backups and tags; a database's network,
role, proxy, target group and endpoint) are remembered here per object (by uid) and made again
when the memory is older than ``max_age``, when the spec changed, when what they depend on
changed (the cheap read, or an earlier step's outputs), and after every write. So drift in a
deep-read field is repaired at the latest ``max_age`` plus one resync after it happened.

Entries are bounded by age: one older than ``max_age`` is useless and is swept away, so objects
that are gone leave nothing behind for long. ``max_age`` 0 remembers nothing (every read, every pass).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Memory", "Remembered", "deep_read_seconds"]

T = TypeVar("T")

_SWEEP_EVERY = 256
"""Sweep expired entries after this many remembers (each sweep is one pass over the dict)."""


def deep_read_seconds(every: int, resync_seconds: float) -> float:
    """The memory's age limit that makes a deep read every ``every``-th resync of an object.

    Half an interval less than ``every`` intervals, so a timer firing a little early still reads on
    that resync rather than the next one; ``every`` 1 reads everything on every pass.
    """
    return max(0.0, (every - 0.5) * resync_seconds)


@dataclass(frozen=True)
class Remembered(Generic[T]):
    value: T
    key: str
    """What the value was read under (the spec's generation, a digest of its inputs)."""
    read_at: float


class Memory(Generic[T]):
    """Per-object memory of deep reads, thread-safe (passes of different objects run in parallel)."""

    def __init__(self, max_age: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age = max_age
        self._clock = clock
        self._entries: dict[str, Remembered[T]] = {}
        self._lock = threading.Lock()
        self._since_sweep = 0

    def recall(self, uid: str, key: str | None = None) -> Remembered[T] | None:
        """The entry, when it is younger than ``max_age`` (and was read under ``key``, when given)."""
        with self._lock:
            entry = self._entries.get(uid)
        if entry is None or self._clock() - entry.read_at >= self.max_age:
            return None
        return entry if key is None or entry.key == key else None

    def remember(self, uid: str, key: str, value: T, read_at: float | None = None) -> None:
        """Record ``value``; ``read_at`` keeps an earlier read time (facts carried over, not read again)."""
        if self.max_age <= 0:
            return
        now = self._clock()
        with self._lock:
            self._entries[uid] = Remembered(value, key, now if read_at is None else read_at)
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
