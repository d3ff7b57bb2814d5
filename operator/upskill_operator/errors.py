"""The operator's error taxonomy, shared by every layer.

Lower layers raise these (the AWS façades subclass them with service detail); the
reconcile engine turns them into conditions: Terminal stops retrying until the
spec changes, Recoverable retries with backoff. Messages are safe to show: they
never carry secret values.
"""

from __future__ import annotations

__all__ = ["NotFoundError", "OperatorError", "RecoverableError", "TerminalError"]


class OperatorError(Exception):
    """Base of errors the operator understands. ``reason`` is a CamelCase word for conditions."""

    reason: str = "Error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason:
            self.reason = reason

    @property
    def message(self) -> str:
        return str(self)


class TerminalError(OperatorError):
    """Retrying cannot help: the spec, permissions or ownership must change first."""

    reason = "Terminal"


class RecoverableError(OperatorError):
    """Transient: throttling, 5xx, timeouts, a resource busy with another change."""

    reason = "Recoverable"


class NotFoundError(OperatorError):
    """The object does not exist (an answer, not a failure, for observe)."""

    reason = "NotFound"
