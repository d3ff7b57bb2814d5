"""Kill the operator right after its N-th mutating call, to test crash consistency.

A :class:`CrashSwitch` watches two channels:

- AWS, as an attempt observer of the operator's runtime (its ``Hooks``): every HTTP attempt of an
  operation whose name says it writes (``Create*``, ``Put*``, ``Modify*``, ...);
- Kubernetes, as a listener of the emulator's store: every change the operator makes to the
  objects it manages there (Secrets, ConfigMaps, Deployments).

Each write is a *step*. Unarmed, the switch only records the steps of a run, in order. Armed
at step ``n``, it kills the process the moment step ``n`` happens: the AWS request that is step
``n`` is sent (AWS applies it and answers), or the Kubernetes write that is step ``n`` is
stored; from that instant every further AWS attempt of the process raises
:class:`OperatorKilled` before it leaves, and every further request to the Kubernetes emulator
is refused (HTTP 404: kopf retries 403, 429 and 5xx for seconds, but drops a patch of an object
that is "gone" at once, so the dead operator stops fast). Nothing the operator does after step
``n`` reaches AWS or Kubernetes: no status update, no other thread's write, no second step. That
is exactly what ``kill -9`` right after the step's response leaves behind, whatever the
operator's threads still try to do while the test stops it (:meth:`OperatorThread.kill` waits
for them). :meth:`revive` lifts the block once the dead operator has stopped, so a fresh one
can start.

The kill is global on purpose: threads other than the one making the step (timers, other
resources) die with it, as they would with the process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from upskill_operator.wiring.runtime import Hooks
from upskill_sandbox.kube import KubeServer
from upskill_sandbox.kube_store import Store
from upskill_sandbox.kube_traffic import Fault

__all__ = ["AWS_WRITE_PREFIXES", "KUBE_WRITES", "CrashSwitch", "OperatorKilled", "Step", "is_aws_write"]

AWS_WRITE_PREFIXES = (
    "Create",
    "Update",
    "Delete",
    "Put",
    "Tag",
    "Untag",
    "Modify",
    "Register",
    "Deregister",
    "Add",
    "Remove",
    "Authorize",
    "Revoke",
    "Restore",
    "Rotate",
    "Cancel",
    "Attach",
    "Detach",
    "Enable",
    "Disable",
)
"""AWS operations that change something (the rest describe, list or get)."""

KUBE_WRITES = frozenset({("", "secrets"), ("", "configmaps"), ("apps", "deployments")})
"""(group, plural) of the Kubernetes objects the operator writes for apps (not its own resources)."""


def is_aws_write(operation: str) -> bool:
    return operation.startswith(AWS_WRITE_PREFIXES)


class Step(NamedTuple):
    """One write: ``("aws", service, operation)`` or ``("kube", plural, ADDED|MODIFIED|DELETED)``."""

    channel: str
    target: str
    action: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.target}:{self.action}"


class OperatorKilled(Exception):  # noqa: N818 - it names what happened, as a signal would
    """Raised in place of every AWS attempt the operator makes after it was killed."""


class CrashSwitch:
    """Records the operator's writes and kills it after one of them (see the module docstring)."""

    def __init__(self, kube: KubeServer) -> None:
        self._kube = kube
        self._store: Store = kube.emulator.cluster.store
        self._lock = threading.Lock()
        self._at: int | None = None
        self._seen_rv = 0
        self._fault: Fault | None = None
        self.steps: list[Step] = []
        """Every step since the last :meth:`arm`, in order."""
        self.killed = threading.Event()
        self.blocked = 0
        """AWS attempts refused because the operator was dead."""

    @contextmanager
    def installed(self, hooks: Hooks) -> Iterator[CrashSwitch]:
        """Observe the AWS attempts of the operators given ``hooks``, and Kubernetes writes, while the block runs."""
        self._store.listeners.append(self._on_store_change)
        try:
            with hooks.added(attempt=self):
                yield self
        finally:
            self._store.listeners.remove(self._on_store_change)
            self.revive()

    def arm(self, at: int | None) -> None:
        """Start counting steps from zero; kill at step ``at`` (None: only record)."""
        with self._lock:
            self.steps = []
            self._at = at
            self._seen_rv = self._store.resource_version
            self.killed.clear()

    def disarm(self) -> None:
        with self._lock:
            self._at = None

    def revive(self) -> None:
        """Lift the block (call it once the killed operator has stopped)."""
        with self._lock:
            self._at = None
            if self._fault is not None:
                self._fault.times = self._fault.hits  # used up: it never matches again
                self._fault = None
            self.killed.clear()

    def _step(self, step: Step) -> None:
        """Record a step; kill when it is the one armed. Call with the lock held."""
        self.steps.append(step)
        if self._at is not None and len(self.steps) - 1 == self._at:
            self.killed.set()
            self._fault = self._kube.inject_fault(
                "*", ".*", status=404, times=1_000_000_000, message="the operator was killed"
            )

    def __call__(self, service: str, operation: str) -> None:
        with self._lock:
            if self.killed.is_set():
                self.blocked += 1
                raise OperatorKilled(f"{service}:{operation} after the operator was killed")
            if is_aws_write(operation):
                self._step(Step("aws", service, operation))

    def _on_store_change(self) -> None:
        """Runs on the emulator's loop right after a write is stored, before it is answered."""
        with self._lock:
            events = self._store.events_after(self._seen_rv)
            if events:
                self._seen_rv = events[-1].rv
            for event in events:
                if self.killed.is_set():
                    return
                if event.resource in KUBE_WRITES:
                    self._step(Step("kube", event.resource[1], event.type))
