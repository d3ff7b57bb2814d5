"""Which resource, which pass and which logical AWS call every HTTP attempt belongs to.

A :class:`CallLedger` observes the operator through the hooks its runtime is given
(:class:`~upskill_operator.wiring.runtime.Hooks`, joined with :meth:`CallLedger.installed`):

- every HTTP attempt, which it passes on to a :class:`~upskill_sandbox.faults.FaultInjector`
  (install the ledger, not the injector), so it knows which attempts the injector failed;
- every pass (reconcile or finalize): the pass's resource is noted for the worker thread
  running it, and the pass's outcome and timing are recorded;
- every façade call: each is one *logical* call, however many attempts botocore makes.

So retries are counted exactly (attempts after the first of a logical call), calls are
attributed to resources without parsing requests, and attempts made outside passes (probes,
migrations) are kept apart. This is test and benchmark instrumentation: the operator never
imports it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.reconcile.outcome import Outcome, State
from upskill_operator.reconcile.protocol import Target
from upskill_operator.wiring.runtime import Hooks
from upskill_sandbox.faults import FaultInjector

__all__ = ["OUTSIDE", "CallLedger", "Pass", "ResourceCalls"]

OUTSIDE = "(outside passes: probes, migrations)"


@dataclass(frozen=True)
class Pass:
    started: float
    ended: float
    state: State
    reason: str
    calls: int
    """Logical AWS calls the pass made."""
    message: str = ""
    exhausted: int = 0
    """Logical calls of this pass whose every attempt the injector failed."""


@dataclass
class ResourceCalls:
    """One resource's AWS traffic and passes."""

    attempts: int = 0
    logical: int = 0
    faults: int = 0
    exhausted: int = 0
    """Logical calls whose every attempt was failed by the injector."""
    most_attempts: int = 0
    """The most attempts any one logical call made."""
    passes: list[Pass] = field(default_factory=list)
    operations: Counter[str] = field(default_factory=Counter)
    """Logical calls per ``service:Operation``."""

    @property
    def retries(self) -> int:
        return self.attempts - self.logical

    @property
    def recoverable(self) -> int:
        return sum(1 for p in self.passes if p.state is State.RECOVERABLE)


@dataclass
class _Call:
    resource: str
    operation: str = ""
    attempts: int = 0
    faults: int = 0


class CallLedger:
    """Attributes attempts to resources and logical calls (see the module docstring)."""

    def __init__(self, injector: FaultInjector, max_attempts: int) -> None:
        self.injector = injector
        self.max_attempts = max_attempts
        self.resources: dict[str, ResourceCalls] = {}
        self._local = threading.local()
        self._lock = threading.Lock()

    def _row(self, resource: str) -> ResourceCalls:
        return self.resources.setdefault(resource, ResourceCalls())

    def __call__(self, service: str, operation: str) -> Any:
        """Pass the attempt to the injector, and record it with its fate."""
        current: _Call | None = getattr(self._local, "call", None)
        call = current or _Call(getattr(self._local, "resource", OUTSIDE))  # outside Facade.call: a call of its own
        call.operation = call.operation or f"{service}:{operation}"
        call.attempts += 1
        try:
            answer = self.injector(service, operation)
        except Exception:  # a reset or a timeout, raised where urllib3 would raise it
            call.faults += 1
            if current is None:
                self._finish(call)
            raise
        call.faults += answer is not None
        if current is None:
            self._finish(call)
        return answer

    def _finish(self, call: _Call) -> None:
        if call.attempts == 0:
            return  # refused before any attempt (an unknown operation, say)
        with self._lock:
            row = self._row(call.resource)
            row.attempts += call.attempts
            row.logical += 1
            row.faults += call.faults
            row.exhausted += call.faults == call.attempts
            row.most_attempts = max(row.most_attempts, call.attempts)
            row.operations[call.operation] += 1

    @contextmanager
    def call(self, service: str, operation: str) -> Iterator[None]:
        """One logical call (a call observer): its attempts are counted together."""
        entry = _Call(getattr(self._local, "resource", OUTSIDE))
        self._local.call = entry
        try:
            yield
        finally:
            self._local.call = None
            self._finish(entry)

    def started(self, target: Target) -> None:
        """A pass starts in this thread (a pass observer)."""
        resource = f"{target.kind} {target.namespace}/{target.name}"
        self._local.resource = resource
        with self._lock:  # passes of one resource never overlap (the handlers hold its lock)
            self._local.before = self._row(resource).logical
            self._local.exhausted_before = self._row(resource).exhausted
        self._local.started = time.monotonic()

    def ended(self, target: Target, outcome: Outcome | None) -> None:
        resource = self._local.resource
        self._local.resource = OUTSIDE
        if outcome is None:
            return  # the pass raised: no outcome to record
        with self._lock:
            row = self._row(resource)
            calls, exhausted = row.logical - self._local.before, row.exhausted - self._local.exhausted_before
            row.passes.append(
                Pass(
                    self._local.started,
                    time.monotonic(),
                    outcome.state,
                    outcome.reason,
                    calls,
                    outcome.message,
                    exhausted,
                )
            )

    @contextmanager
    def installed(self, hooks: Hooks) -> Iterator[CallLedger]:
        """Observe the runtime given ``hooks`` while the block runs."""
        with hooks.added(attempt=self, call=self.call, passes=self):
            yield self

    def totals(self) -> ResourceCalls:
        out = ResourceCalls()
        for row in self.resources.values():
            out.attempts += row.attempts
            out.logical += row.logical
            out.faults += row.faults
            out.exhausted += row.exhausted
            out.most_attempts = max(out.most_attempts, row.most_attempts)
            out.passes.extend(row.passes)
            out.operations.update(row.operations)
        return out

    def injected(self) -> Counter[str]:
        return Counter(self.injector.injected)
