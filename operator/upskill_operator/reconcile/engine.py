"""The one generic reconciler: it drives adapters through observe -> create | update | delete.

A pass walks the adapters in dependency order. For each, it observes, checks
ownership and immutable conflicts, then creates or updates until the adapter
reports up to date, stopping to requeue when AWS reports a transitional state.
A data-bearing object that status records and AWS no longer has is not
re-created empty without an approval (:mod:`.gone`). Finalization walks the
adapters in reverse. Writes per pass are bounded and an update AWS does not
apply is reported instead of repeated, so a false diff can never become a
write storm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from upskill_operator.errors import RecoverableError, TerminalError
from upskill_operator.reconcile import gone
from upskill_operator.reconcile.outcome import Outcome, State
from upskill_operator.reconcile.protocol import Adapter, Claim, Gone, Observation, Steps, Target

__all__ = ["MANAGED_TAGS_KEY", "Engine", "PassObserver"]

MANAGED_TAGS_KEY = "managedTagKeys"
"""The status field recording the tag keys the operator manages: what a later pass may remove."""

AnyAdapter = Adapter[Any]

log = logging.getLogger(__name__)


class _Stop(Exception):  # noqa: N818 - control flow, not an error
    """Ends a pass early with an outcome (progress, budget spent)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


class PassObserver(Protocol):
    """Told of every pass (reconcile or finalize) as it starts and ends, in the thread running it."""

    def started(self, target: Target) -> None: ...

    def ended(self, target: Target, outcome: Outcome | None) -> None:
        """``outcome`` is None when the pass raised."""


class Engine:
    """Reconciles one custom resource against an ordered list of adapters."""

    def __init__(
        self,
        adapters: Sequence[AnyAdapter],
        *,
        max_writes: int = 8,
        requeue_seconds: float = 5.0,
        clock: Callable[[], str] = gone.rfc3339_now,
        adopt_scopes: Mapping[str, Sequence[str]] | None = None,
        observers: Sequence[PassObserver] = (),
    ) -> None:
        self.adapters = tuple(adapters)
        self.observers = observers
        """Read at every pass: observers may join the sequence (a list) while the engine serves."""
        self.max_writes = max_writes
        self.requeue_seconds = requeue_seconds
        self.clock = clock
        self.adopt_scopes = {namespace: tuple(globs) for namespace, globs in (adopt_scopes or {}).items()}
        """Namespace -> globs of AWS names it may adopt beyond its own scope (``Settings.adopt_scopes``)."""

    def _granted(self, target: Target) -> Target:
        """The target with its namespace's grants from the operator's settings (never from the resource)."""
        return replace(target, adopt_grants=self.adopt_scopes.get(target.namespace, ()))

    def _observed(self, target: Target, run: Callable[[Target], Outcome]) -> Outcome:
        observers = tuple(self.observers)
        for observer in observers:
            observer.started(target)
        outcome = None
        try:
            outcome = run(target)
            return outcome
        finally:
            for observer in reversed(observers):
                observer.ended(target, outcome)

    def reconcile(self, target: Target) -> Outcome:
        """Make AWS match the spec, as far as one pass can."""
        return self._observed(target, lambda t: _Pass(self, self._granted(t)).run(self._sync))

    def finalize(self, target: Target) -> Outcome:
        """Apply the deletion policy; DELETED means the finalizer may be removed."""
        return self._observed(target, self._finalize)

    def _finalize(self, target: Target) -> Outcome:
        target = self._granted(target)
        if target.deletion_policy == "Retain":
            return Outcome(State.DELETED, "Retained", "deletionPolicy is Retain: the AWS objects are kept")
        if target.deletion_protected:
            return _Pass(self, target).run(self._protected)
        return _Pass(self, target).run(self._teardown)

    def _sync(self, run: _Pass) -> Outcome:
        run.tagging = True
        for adapter in self.adapters:
            run.sync_adapter(adapter)
        run.complete = True
        return run.outcome(State.READY, "Available", "all AWS objects exist and match the spec")

    def _protected(self, run: _Pass) -> Outcome:
        """Deletion protection guards what exists: block on the first object of ours, writing nothing.

        A resource that never created anything (refused Terminal at its first step, say) has nothing
        to protect, so it goes without the user having to edit its spec first.
        """
        for adapter in self.adapters:
            observed = run.observe(adapter)
            if observed.exists and run.mine(adapter, observed):
                return Outcome(
                    State.BLOCKED,
                    "DeletionProtected",
                    f"spec.deletionProtection is true: set it to false to let deletionPolicy "
                    f"{run.target.deletion_policy} proceed, or set deletionPolicy to Retain",
                    requeue_after=self.requeue_seconds * 6,
                )
        return run.outcome(State.DELETED, "NothingCreated", "no AWS object of this resource exists")

    def _teardown(self, run: _Pass) -> Outcome:
        skipped = [adapter.name for adapter in reversed(self.adapters) if not run.delete_adapter(adapter)]
        note = f"; left alone (not ours): {', '.join(skipped)}" if skipped else ""
        return run.outcome(State.DELETED, "Deleted", f"deletionPolicy {run.target.deletion_policy} applied{note}")


class _Pass:
    """The mutable bookkeeping of one pass: observations gathered, writes spent, current step."""

    def __init__(self, engine: Engine, target: Target) -> None:
        self.engine = engine
        self.target = target
        self.steps = Steps()
        self.outputs: dict[str, Any] = {}
        """What the engine itself publishes (the loss record) on top of the steps' fields."""
        self.writes = 0
        self.step: str | None = None
        self.late: list[str] = []
        self.tagging = False
        """A sync: collect ``managedTagKeys`` from the steps' observations."""
        self.complete = False
        """Every step was visited: the managed tag keys are the union of this pass alone."""
        self.managed: dict[str, frozenset[str]] = {}

    def run(self, body: Any) -> Outcome:
        try:
            result: Outcome = body(self)
            return result
        except _Stop as stop:
            return stop.outcome
        except TerminalError as exc:
            return self.outcome(State.TERMINAL, exc.reason, self._prefixed(exc))
        except RecoverableError as exc:
            return self.outcome(State.RECOVERABLE, exc.reason, self._prefixed(exc))
        except Exception as exc:  # a bug must not crash-loop the operator: back off and say so
            log.exception("unexpected error reconciling %s %s", self.target.kind, self.target.owner)
            return self.outcome(State.RECOVERABLE, "InternalError", self._prefixed(exc, type(exc).__name__))

    def outcome(self, state: State, reason: str, message: str, requeue_after: float | None = None) -> Outcome:
        if requeue_after is None and state in (State.PROGRESSING,):
            requeue_after = self.engine.requeue_seconds
        outputs = {**self.steps.published, **self.outputs, **self._managed_tag_keys()}
        return Outcome(state, reason, message, outputs, requeue_after, self.writes, self.step, tuple(self.late))

    def _managed_tag_keys(self) -> dict[str, list[str]]:
        """``status.managedTagKeys`` once per pass: the union over the tagged steps of what each manages
        now. A pass that stopped before some step keeps what status recorded too, so a key a later step
        must still remove is never forgotten."""
        if not self.tagging or not self.managed:
            return {}
        keys = set().union(*self.managed.values())
        if not self.complete:
            keys |= self.target.recorded.managed_tag_keys
        return {MANAGED_TAGS_KEY: sorted(keys)}

    def _prefixed(self, exc: Exception, kind: str | None = None) -> str:
        text = f"{kind}: {exc}" if kind else str(exc)
        return f"{self.step}: {text}" if self.step else text

    def ours(self, adapter: AnyAdapter, observed: Observation) -> bool:
        """The object is this resource's (or ours to adopt this pass); objects without tags always are."""
        return adapter.owner_field is None or self.target.owns(observed.owner, observed.naming, observed.made_here)

    def mine(self, adapter: AnyAdapter, observed: Observation) -> bool:
        """Tagged for this resource already (what deletion and protection act on), or untagged by nature."""
        return (
            adapter.owner_field is None
            or self.target.claim(observed.owner, observed.naming, observed.made_here) is Claim.OURS
        )

    def observe(self, adapter: AnyAdapter) -> Any:
        """Observe one step and publish what the observation publishes: its pinned fields always, its
        outputs only when the object is absent or ours (never a foreign object's identifiers), once."""
        self.step = adapter.name
        observed: Observation = adapter.observe(self.target, self.steps)
        owned = not observed.exists or self.ours(adapter, observed)
        self.steps.record(observed if owned else None, {**(observed.outputs if owned else {}), **observed.pinned})
        if observed.managed_tags is not None and owned:
            self.managed[adapter.name] = observed.managed_tags
        return observed

    def _report(self, reason: str, message: str) -> None:
        """A write went through: tell the target's event sink (a Normal Kubernetes Event)."""
        self.target.events.emit("Normal", reason, message)

    def _spend(self) -> None:
        if self.writes >= self.engine.max_writes:
            raise _Stop(self.outcome(State.PROGRESSING, "Progressing", f"{self.step}: more changes to apply"))
        self.writes += 1

    def _check_owner(self, adapter: AnyAdapter, observed: Observation) -> bool:
        """True when the object must be adopted (tagged) before it counts as up to date; Terminal when it is
        not ours to touch (:meth:`Target.check_claim`: the one ownership rule, which adapters use too)."""
        if adapter.owner_field is None:
            return False
        claim = self.target.check_claim(adapter.owner_field, observed.owner, observed.naming, observed.made_here)
        return claim is Claim.ADOPT

    def sync_adapter(self, adapter: AnyAdapter) -> None:
        if not adapter.wanted(self.target, self.steps):
            self._retire(adapter)
            return
        last_diff: tuple[str, ...] | None = None
        created = False  # updates right after a create finish it (TTL, backups): one Created event says it all
        while True:
            observed = self.observe(adapter)
            if observed.exists and gone.recorded_for(self.target, adapter.name):
                self.outputs[gone.STATUS_KEY] = None  # it is back (re-created or restored): the record goes
            if not observed.exists:
                if observed.up_to_date:  # absent, and absent is what the spec asks for
                    return
                if observed.gone is not None:
                    self._approve_recreation(adapter, observed.gone)
                self._spend()
                adapter.create(self.target, self.steps)
                self._report("Created", f"{adapter.name}: created")
                created = True
                continue
            if observed.pending:  # waiting writes nothing, so it is safe before the ownership check
                raise _Stop(self.outcome(State.PROGRESSING, "Waiting", f"{adapter.name}: {observed.pending}"))
            adopting = self._check_owner(adapter, observed)
            if observed.conflicts:
                raise TerminalError("; ".join(observed.conflicts), reason="ImmutableField")
            if observed.up_to_date and not adopting:
                self.late.extend(observed.late_initialized)
                return
            diff = observed.diff or (("tags",) if adopting else ())
            if diff == last_diff:
                raise RecoverableError(
                    f"AWS did not apply {', '.join(diff) or 'the update'}; retrying with backoff",
                    reason="NotConverged",
                )
            self._spend()
            adapter.update(self.target, self.steps, observed)
            if not created:
                self._report("Updated", f"{adapter.name}: {', '.join(diff) or 'updated'}")
            last_diff = diff

    def _retire(self, adapter: AnyAdapter) -> None:
        """The spec no longer asks for this object: delete it if it exists and is ours, else leave it."""
        deleted = False
        while True:
            observed = self.observe(adapter)
            if not observed.exists or not self.mine(adapter, observed):  # never adopt something only to delete it
                return
            if observed.pending:
                raise _Stop(self.outcome(State.PROGRESSING, "Waiting", f"{adapter.name}: {observed.pending}"))
            if deleted:
                raise RecoverableError(
                    "AWS did not apply the deletion of a part the spec no longer asks for; retrying with backoff",
                    reason="NotConverged",
                )
            self._spend()
            adapter.delete(self.target, self.steps, observed, "Delete")
            self._report("Deleted", f"{adapter.name}: deleted, the spec no longer asks for it")
            deleted = True

    def _approve_recreation(self, adapter: AnyAdapter, lost: Gone) -> None:
        """A data-bearing object that existed is gone: Terminal unless re-creating it empty is approved."""
        found = gone.verdict(self.target, adapter.name, lost, self.engine.clock)
        self.outputs[gone.STATUS_KEY] = found.record
        if not found.approved:
            raise TerminalError(found.message, reason="DataObjectGone")

    def delete_adapter(self, adapter: AnyAdapter) -> bool:
        """Delete one object if it is ours; False when something was left alone."""
        observed = self.observe(adapter)
        if not observed.exists:
            if observed.pending:  # gone, but what its deletion leaves behind (a final snapshot) is not ready
                raise _Stop(self.outcome(State.PROGRESSING, "Deleting", f"{adapter.name}: {observed.pending}"))
            return True
        if not self.mine(adapter, observed):
            return False
        if observed.pending:
            raise _Stop(self.outcome(State.PROGRESSING, "Deleting", f"{adapter.name}: {observed.pending}"))
        self._spend()
        adapter.delete(self.target, self.steps, observed, self.target.deletion_policy)
        self._report("Deleted", f"{adapter.name}: deletion requested (deletionPolicy {self.target.deletion_policy})")
        after = self.observe(adapter)
        if after.exists or after.pending:
            detail = "deletion in progress" if after.exists else after.pending
            raise _Stop(self.outcome(State.PROGRESSING, "Deleting", f"{adapter.name}: {detail}"))
        return True
