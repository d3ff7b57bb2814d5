"""The base of steps that only read (a source, a KMS key, the proxy's users): they never write.

Such a step's observe reports an existing, up-to-date object, a wait, or "nothing wanted", so the
engine never asks it to create, update or delete; if it ever did, that is a bug worth a loud error.
"""

from __future__ import annotations

from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Steps, Target

__all__ = ["ReadOnlyStep"]


class ReadOnlyStep:
    """Implements the write half of the reconcile ``Adapter`` protocol for a step that only reads."""

    name = "read-only step"
    owner_field: str | None = None

    def wanted(self, target: Target, steps: Steps) -> bool:
        return True

    def create(self, target: Target, steps: Steps) -> None:
        raise AssertionError(f"{self.name}: a read-only step was asked to create")

    def update(self, target: Target, steps: Steps, observed: Observation) -> None:
        raise AssertionError(f"{self.name}: a read-only step was asked to update")

    def delete(self, target: Target, steps: Steps, observed: Observation, policy: DeletionPolicy) -> None:
        raise AssertionError(f"{self.name}: a read-only step was asked to delete")
