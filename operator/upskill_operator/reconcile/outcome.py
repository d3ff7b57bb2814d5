"""The result of one reconcile or finalize pass."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Outcome", "State"]


class State(enum.StrEnum):
    READY = "ready"
    """Every object exists and matches the spec."""
    PROGRESSING = "progressing"
    """Work is under way; AWS is still changing something. Requeue."""
    RECOVERABLE = "recoverable"
    """A transient failure. Retry with backoff."""
    TERMINAL = "terminal"
    """Nothing will change until the spec (or ownership, or permissions) does."""
    DELETED = "deleted"
    """Finalization is complete: the finalizer may go."""
    BLOCKED = "blocked"
    """Deletion is refused until the spec allows it."""


@dataclass(frozen=True)
class Outcome:
    state: State
    reason: str
    message: str = ""
    outputs: Mapping[str, Any] = field(default_factory=dict)
    requeue_after: float | None = None
    writes: int = 0
    step: str | None = None
    """The adapter the pass stopped at (or last touched)."""
    late_initialized: tuple[str, ...] = ()
