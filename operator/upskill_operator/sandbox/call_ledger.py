"""Which resource, which pass and which logical AWS call every HTTP attempt belongs to.

A :class:`CallLedger` is an attempt observer (``aws.session.ATTEMPT_OBSERVERS``) that passes every
attempt on to a :class:`~upskill_operator.sandbox.faults.FaultInjector` (register the ledger, not
the injector), so it knows which attempts the injector failed. While
:meth:`CallLedger.instrumented` runs, it also wraps two class attributes of the operator,
restored on exit and changing nothing else:

- ``Engine.reconcile`` / ``Engine.finalize``: the pass's resource is noted for the worker
  thread running it, and the pass's outcome and timing are recorded;
- ``Facade.call``: each call is one *logical* call, however many attempts botocore makes.

So retries are counted exactly (attempts after the first of a logical call), calls are
attributed to resources without parsing requests, and attempts made outside passes (probes,
migrations) are kept apart. This is test and benchmark instrumentation: the operator never
imports it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.aws.base import Facade
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.outcome import Outcome, State
from upskill_operator.reconcile.protocol import Target
from upskill_operator.sandbox.faults import FaultInjector

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

    def _wrap_call(self, original: Callable[..., Any]) -> Callable[..., Any]:
        ledger = self

        @functools.wraps(original)
        def call(facade: Facade, operation: str, **params: Any) -> Any:
            entry = _Call(getattr(ledger._local, "resource", OUTSIDE))
            ledger._local.call = entry
            try:
                return original(facade, operation, **params)
            finally:
                ledger._local.call = None
                ledger._finish(entry)

        return call

    def _wrap_pass(self, original: Callable[[Engine, Target], Outcome]) -> Callable[[Engine, Target], Outcome]:
        ledger = self

        @functools.wraps(original)
        def run(engine: Engine, target: Target) -> Outcome:
            resource = f"{target.kind} {target.namespace}/{target.name}"
            ledger._local.resource = resource
            with ledger._lock:  # passes of one resource never overlap (the handlers hold its lock)
                before = ledger._row(resource).logical
                exhausted_before = ledger._row(resource).exhausted
            started = time.monotonic()
            try:
                outcome = original(engine, target)
            finally:
                ledger._local.resource = OUTSIDE
            with ledger._lock:
                row = ledger._row(resource)
                row.passes.append(
                    Pass(
                        started,
                        time.monotonic(),
                        outcome.state,
                        outcome.reason,
                        row.logical - before,
                        outcome.message,
                        row.exhausted - exhausted_before,
                    )
                )
            return outcome

        return run

    @contextmanager
    def instrumented(self) -> Iterator[CallLedger]:
        saved = (Engine.reconcile, Engine.finalize, Facade.call)
        Engine.reconcile = self._wrap_pass(Engine.reconcile)  # type: ignore[method-assign,assignment]
        Engine.finalize = self._wrap_pass(Engine.finalize)  # type: ignore[method-assign,assignment]
        Facade.call = self._wrap_call(Facade.call)  # type: ignore[method-assign]
        try:
            yield self
        finally:
            Engine.reconcile, Engine.finalize, Facade.call = saved  # type: ignore[method-assign]

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
