"""Turn an :class:`Outcome` into the four standard conditions and a phase.

Conditions are recomputed on every pass (as ACK does), but a condition whose
status did not change keeps its ``lastTransitionTime``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from upskill_operator.models.common import ConditionType, Phase
from upskill_operator.reconcile.outcome import Outcome, State

__all__ = ["phase_for", "render"]

_T = ConditionType


def phase_for(outcome: Outcome, previous_phase: str | None, deleting: bool) -> Phase:
    """The coarse lifecycle phase users see in ``kubectl get``."""
    if deleting and outcome.state is not State.DELETED:
        return Phase.DELETING if outcome.state is not State.TERMINAL else Phase.FAILED
    if outcome.state is State.READY:
        return Phase.READY
    if outcome.state is State.TERMINAL:
        return Phase.FAILED
    ever_ready = previous_phase in (Phase.READY.value, Phase.UPDATING.value)
    return Phase.UPDATING if ever_ready else Phase.CREATING


def _wanted(outcome: Outcome) -> dict[ConditionType, tuple[str, str, str]]:
    """(status, reason, message) per condition type."""
    state, reason, message = outcome.state, outcome.reason, outcome.message
    if state is State.READY:
        return {
            _T.READY: ("True", reason, message),
            _T.SYNCED: ("True", "ReconcileSuccess", "the spec is applied"),
            _T.TERMINAL: ("False", "NoTerminalError", ""),
            _T.RECOVERABLE: ("False", "NoRecoverableError", ""),
        }
    terminal = state in (State.TERMINAL, State.BLOCKED)
    return {
        _T.READY: ("False", reason, message),
        _T.SYNCED: ("False", reason, message),
        _T.TERMINAL: ("True", reason, message) if terminal else ("False", "NoTerminalError", ""),
        _T.RECOVERABLE: (
            ("True", reason, message) if state is State.RECOVERABLE else ("False", "NoRecoverableError", "")
        ),
    }


def render(previous: Sequence[Mapping[str, Any]], outcome: Outcome, generation: int, now: str) -> list[dict[str, Any]]:
    """The new ``status.conditions`` list; other condition types from earlier passes are kept."""
    old = {c.get("type"): c for c in previous}
    wanted = _wanted(outcome)
    out: list[dict[str, Any]] = []
    for ctype, (status, reason, message) in wanted.items():
        before = old.get(ctype.value, {})
        keep = before.get("status") == status and before.get("lastTransitionTime")
        out.append(
            {
                "type": ctype.value,
                "status": status,
                "reason": reason,
                "message": message,
                "lastTransitionTime": before["lastTransitionTime"] if keep else now,
                "observedGeneration": generation,
            }
        )
    known = {c.value for c in wanted}
    out.extend(dict(c) for c in previous if c.get("type") not in known)
    return out
