"""A fake adapter built from closures, in the style of Crossplane's ExternalClientFns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Steps, Target

Observe = Callable[[Target, Steps], Observation]


@dataclass
class FakeAdapter:
    """Records every call; observe returns the next scripted observation (the last one repeats)."""

    name: str = "fake"
    owner_field: str | None = "spec.name"
    observations: list[Observation] = field(default_factory=list)
    fail_on: dict[str, Exception] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    want: bool = True
    """What ``wanted`` answers: False scripts a part the spec no longer asks for."""

    def _next(self) -> Observation:
        return self.observations.pop(0) if len(self.observations) > 1 else self.observations[0]

    def _maybe_fail(self, verb: str) -> None:
        self.calls.append(verb)
        if verb in self.fail_on:
            raise self.fail_on[verb]

    def wanted(self, target: Target, steps: Steps) -> bool:
        return self.want

    def observe(self, target: Target, steps: Steps) -> Observation:
        self._maybe_fail("observe")
        return self._next()

    def create(self, target: Target, steps: Steps) -> None:
        self._maybe_fail("create")

    def update(self, target: Target, steps: Steps, observed: Observation) -> None:
        self._maybe_fail("update")

    def delete(self, target: Target, steps: Steps, observed: Observation, policy: DeletionPolicy) -> None:
        self._maybe_fail(f"delete:{policy}")

    @property
    def writes(self) -> list[str]:
        return [c for c in self.calls if c != "observe"]
