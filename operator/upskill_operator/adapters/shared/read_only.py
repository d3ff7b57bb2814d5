"""The base of steps that only read (a source, a KMS key, the proxy's users): they never write.

Such a step's observe reports an existing, up-to-date object, a wait, or "nothing wanted", so the
engine never asks it to create, update or delete; if it ever did, that is a bug worth a loud error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Target

__all__ = ["ReadOnlyStep"]


class ReadOnlyStep:
    """Implements the write half of the reconcile ``Adapter`` protocol for a step that only reads."""

    name = "read-only step"
    owner_field: str | None = None

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None:
        raise AssertionError(f"{self.name}: a read-only step was asked to create")

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None:
        raise AssertionError(f"{self.name}: a read-only step was asked to update")

    def delete(self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy) -> None:
        raise AssertionError(f"{self.name}: a read-only step was asked to delete")
