"""Turn an :class:`Outcome` into the standard conditions and a phase; the one condition setter.

Conditions are recomputed on every pass (as ACK does), but a condition whose
status did not change keeps its ``lastTransitionTime`` (:func:`set_condition`, which
the probe and migration loops use for their own condition types too).

``LateInitialized`` is present, True, only while AWS chose values for fields the spec
leaves unset (their paths are in its message), and absent otherwise. Only a pass that
reached Ready has seen every step, so only such a pass sets or removes it; other passes
keep it as it was. A steady resource renders the same condition on every pass, so it
never causes a status write on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from upskill_operator.models.common import ConditionType, Phase
from upskill_operator.reconcile.outcome import Outcome, State

__all__ = ["ALARMS_OK", "LATE_INITIALIZED", "alarms_ok", "phase_for", "render", "set_condition"]

_T = ConditionType
LATE_INITIALIZED = _T.LATE_INITIALIZED.value
ALARMS_OK = _T.ALARMS_OK.value


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


def set_condition(
    conditions: Sequence[Mapping[str, Any]],
    ctype: str,
    status: str,
    reason: str,
    message: str,
    now: str,
    generation: int | None = None,
) -> list[dict[str, Any]]:
    """``conditions`` with the ``ctype`` entry set (in its place, or last when new); the others are kept.

    Its ``lastTransitionTime`` stays while ``status`` does not change, and is ``now`` otherwise.
    ``observedGeneration`` is written when ``generation`` is given.
    """
    before = next((c for c in conditions if c.get("type") == ctype), {})
    keep = before.get("status") == status and before.get("lastTransitionTime")
    entry: dict[str, Any] = {
        "type": ctype,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": before["lastTransitionTime"] if keep else now,
    }
    if generation is not None:
        entry["observedGeneration"] = generation
    out = [entry if c.get("type") == ctype else dict(c) for c in conditions]
    return out if before else [*out, entry]


def render(previous: Sequence[Mapping[str, Any]], outcome: Outcome, generation: int, now: str) -> list[dict[str, Any]]:
    """The new ``status.conditions`` list; other condition types from earlier passes are kept."""
    out = [dict(c) for c in previous]
    for ctype, (status, reason, message) in _wanted(outcome).items():
        out = set_condition(out, ctype.value, status, reason, message, now, generation)
    if outcome.state is State.READY and outcome.late_initialized:
        fields = ", ".join(sorted(set(outcome.late_initialized)))
        message = f"AWS chose values for fields the spec leaves unset: {fields}"
        out = set_condition(out, LATE_INITIALIZED, "True", "DefaultedByAWS", message, now, generation)
    elif outcome.state is State.READY:
        out = [c for c in out if c.get("type") != LATE_INITIALIZED]
    if "alarms" in outcome.outputs:  # the alarms step ran this pass: its states are current
        out = alarms_ok(out, outcome.outputs["alarms"], now, generation)
    return out


def alarms_ok(
    conditions: Sequence[Mapping[str, Any]], alarms: Sequence[Mapping[str, Any]] | None, now: str, generation: int
) -> list[dict[str, Any]]:
    """``AlarmsOK``: False (AlarmFiring, naming them) while any CloudWatch alarm of the resource is in ALARM,
    True otherwise; absent when the resource has no alarms (``spec.monitoring`` unset)."""
    if not alarms:
        return [dict(c) for c in conditions if c.get("type") != ALARMS_OK]
    firing = sorted(str(a.get("name")) for a in alarms if a.get("state") == "ALARM")
    if firing:
        message = f"in ALARM: {', '.join(firing)}"
        return set_condition(conditions, ALARMS_OK, "False", "AlarmFiring", message, now, generation)
    waiting = sum(1 for a in alarms if a.get("state") == "INSUFFICIENT_DATA")
    note = f" ({waiting} without enough data yet)" if waiting else ""
    message = f"no alarm in ALARM among {len(alarms)}{note}"
    return set_condition(conditions, ALARMS_OK, "True", "NoAlarmFiring", message, now, generation)
