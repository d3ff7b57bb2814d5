"""Post a pass's Kubernetes Events through kopf: what the engine reported, then the condition changes.

kopf posts core/v1 Events (``kubectl describe`` shows them) from its own queue, so a handler never
waits for the API. The gate kept in the object's memo drops repeats (see
:class:`~upskill_operator.reconcile.events.EventGate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from upskill_operator.reconcile.events import EventBuffer, EventGate, fit, transitions

__all__ = ["post"]


def post(body: kopf.Body, memo: kopf.Memo, buffer: EventBuffer, status: Mapping[str, Any]) -> None:
    """Post the buffered events and the transitions from the body's conditions to ``status``'s."""
    before = (body.get("status") or {}).get("conditions") or []
    gate: EventGate = memo.setdefault("event_gate", EventGate())
    generation = int(body.metadata.get("generation") or 0)
    for event in [*buffer.events, *transitions(before, status.get("conditions") or [])]:
        if gate.admit(event, generation):
            kopf.event(body, type=event.type, reason=event.reason, message=fit(event.message))
