"""The alarms of a namespace, read once (one paged DescribeAlarms) and shared by its resources' passes.

Every alarm of a resource is named ``<prefix>-<namespace>-<name>-...``, so one DescribeAlarms by the
namespace's prefix finds the alarms of all its resources: 1,000 tables cost a few pages a resync
instead of a thousand calls. A resource reads its own prefix instead (:meth:`AlarmSnapshot.alarms`
with ``fresh``) when it is about to decide a write, and after any write of its own (:meth:`touched`),
so what it writes is always decided on a read made after its last write. A read is stamped with the
time it started; the newest of the namespace's read and the resource's own stands for ``max_age``.

Drift bound: a pass uses a read younger than ``max_age``; with ``max_age`` half the resync interval R,
every second pass of a resource at the latest sees a read made after the drift, so a change behind the
operator's back (or an alarm changing state) shows within 2 x R plus one pass.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from upskill_operator.aws.cloudwatch import CloudWatch, ObservedAlarm

__all__ = ["AlarmSnapshot"]


@dataclass(frozen=True)
class _Read:
    started: float
    alarms: tuple[ObservedAlarm, ...]


class AlarmSnapshot:
    """Shared reads of alarms by namespace prefix, with each resource's own reads and writes laid over them."""

    def __init__(self, cloudwatch: CloudWatch, clock: Callable[[], float] = time.monotonic) -> None:
        self.cloudwatch = cloudwatch
        self.clock = clock
        self._spaces: dict[str, _Read] = {}
        """Namespace prefix -> its last read."""
        self._own: dict[str, _Read] = {}
        """Resource base -> its last own read, kept while newer than its namespace's."""
        self._written: dict[str, float] = {}
        """Resource base -> when it last wrote (a read that started earlier does not stand for it)."""
        self._lock = threading.Lock()
        self._space_locks: dict[str, threading.Lock] = {}

    def alarms(self, space: str, base: str, max_age: float, fresh: bool = False) -> list[ObservedAlarm]:
        """The alarms named ``<base>-...`` (``base`` starts with ``space``); ``fresh`` reads them now.

        A read older than the resource's last write never stands: its own prefix is read (one call).
        A read older than ``max_age`` is replaced by a new read of the namespace, shared.
        """
        mine = f"{base}-"
        if not fresh:
            with self._lock:
                reads = [r for r in (self._spaces.get(space), self._own.get(base)) if r is not None]
                written = self._written.get(base)
            newest = max(reads, key=lambda r: r.started, default=None)
            if newest is None or self.clock() - newest.started >= max_age:
                newest = self._read_space(space, max_age)
            if written is None or newest.started > written:
                return [a for a in newest.alarms if a.definition.name.startswith(mine)]
        read = _Read(self.clock(), tuple(self.cloudwatch.alarms(mine)))
        with self._lock:
            self._own[base] = read
        return list(read.alarms)

    def touched(self, base: str) -> None:
        """The resource ``base`` has written (call after the write): the next pass reads its own alarms."""
        with self._lock:
            self._written[base] = self.clock()

    def _read_space(self, space: str, max_age: float) -> _Read:
        """A read of the namespace younger than ``max_age``: made here, or by the thread that held the gate."""
        with self._lock:
            gate = self._space_locks.setdefault(space, threading.Lock())
        with gate:
            with self._lock:
                known = self._spaces.get(space)
            if known is not None and self.clock() - known.started < max_age:
                return known
            read = _Read(self.clock(), tuple(self.cloudwatch.alarms(space)))
            with self._lock:
                self._spaces[space] = read
                self._prune(space, read.started)
            return read

    def _prune(self, space: str, started: float) -> None:
        """Forget own reads and writes under ``space`` that the namespace read supersedes (lock held)."""
        for base in [b for b, r in self._own.items() if b.startswith(space) and r.started < started]:
            del self._own[base]
        for base in [b for b, t in self._written.items() if b.startswith(space) and t < started]:
            del self._written[base]
