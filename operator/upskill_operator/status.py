"""Write an engine outcome into ``status`` and the per-resource metrics.

Status is state, not a heartbeat: :func:`changes` keeps only what differs from the status the
API server holds, and a pass whose only news is its own time (``lastSyncTime``, and an
UpskillSecret's ``lastRefreshTime``) writes nothing at all. Those stamps therefore say when a
pass last *changed* status; when passes last ran is in the metrics
(``upskill_reconcile_total``, ``upskill_resource_last_pass_timestamp_seconds``).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from upskill_operator import metrics
from upskill_operator.models.common import KindInfo
from upskill_operator.reconcile.conditions import phase_for, render
from upskill_operator.reconcile.outcome import Outcome, State

__all__ = [
    "STAMPS",
    "Asserted",
    "assert_condition",
    "changes",
    "now",
    "own_conditions",
    "same_status",
    "status_patch",
    "with_asserted",
]

STAMPS = frozenset({"lastSyncTime", "lastRefreshTime"})
"""Status fields that only say when a pass ran: never a reason to write on their own."""


Asserted = MutableMapping[str, tuple[str, dict[str, Any]]]
"""The conditions a background loop of one object (migrations, probes) last wrote or found written:
condition type -> (the spec field that asks for it, the condition as the API server holds it).
It lives in the object's kopf memo, so the reconcile passes of that object read it in-process."""


def assert_condition(store: Asserted, conditions: Sequence[Mapping[str, Any]], ctype: str, spec_field: str) -> None:
    """Record the ``ctype`` entry of ``conditions`` (status as written) as what its loop asserts."""
    entry = next((c for c in conditions if c.get("type") == ctype), None)
    if entry is None:
        store.pop(ctype, None)
    else:
        store[ctype] = (spec_field, dict(entry))


def own_conditions(conditions: Sequence[Mapping[str, Any]], store: Asserted, ctype: str) -> list[dict[str, Any]]:
    """``conditions`` as the loop that owns ``ctype`` starts from: its last assertion when the list lacks it.

    kopf applies a reconcile pass's status patch without a resourceVersion, after the pass, and a merge
    patch replaces the whole list: a pass computed before the loop's write can land after it and drop the
    loop's condition. Starting again from the loop's own entry keeps its transition time (the status did
    not change, so neither may ``lastTransitionTime``); the next pass lays the same entry back.
    """
    out = [dict(c) for c in conditions]
    held = store.get(ctype)
    if held is not None and not any(c.get("type") == ctype for c in out):
        out.append(dict(held[1]))
    return out


def with_asserted(
    conditions: Sequence[Mapping[str, Any]], store: Asserted, spec: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """``conditions`` with each loop's own condition as the loop last wrote it (while the spec still asks for it).

    A reconcile pass writes the whole list (a merge patch replaces lists): from a body older than a loop's
    write, it would drop that loop's condition, and the loop would put it back with a new transition time.
    """
    out = [dict(c) for c in conditions]
    for ctype, (field, entry) in list(store.items()):
        if not spec.get(field):
            continue
        if any(c.get("type") == ctype for c in out):
            out = [dict(entry) if c.get("type") == ctype else c for c in out]
        else:
            out.append(dict(entry))
    return out


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_patch(
    info: KindInfo, body: Mapping[str, Any], outcome: Outcome, *, deleting: bool = False
) -> dict[str, Any]:
    """The status fields to merge: conditions, phase, generation, time, and the outputs the model declares."""
    meta = body.get("metadata", {})
    status = body.get("status") or {}
    generation = int(meta.get("generation") or 0)
    stamp = now()
    patch: dict[str, Any] = {
        "conditions": render(status.get("conditions") or [], outcome, generation, stamp),
        "phase": phase_for(outcome, status.get("phase"), deleting).value,
        "observedGeneration": generation,
        "message": outcome.message,
    }
    if outcome.state not in (State.TERMINAL, State.BLOCKED) or outcome.outputs:
        patch["lastSyncTime"] = stamp
    declared = {f.alias or name for name, f in info.status.model_fields.items()}
    patch.update({k: v for k, v in outcome.outputs.items() if k in declared and k not in patch})
    created = patch.get("versionCreatedTime")
    if created:  # UpskillSecret: the age of the value in use, for the rotation panel and alerts
        stamp_seconds = datetime.datetime.fromisoformat(str(created).replace("Z", "+00:00")).timestamp()
        metrics.SECRET_VERSION_CREATED.labels(meta.get("namespace", ""), meta.get("name", "")).set(stamp_seconds)
    ready = 1.0 if outcome.state is State.READY else 0.0
    labels = (info.kind, meta.get("namespace", ""), meta.get("name", ""))
    metrics.RESOURCE_READY.labels(*labels).set(ready)
    metrics.RESOURCE_LAST_PASS.labels(*labels).set(time.time())
    if "alarms" in outcome.outputs:  # the alarms step ran: its states are current
        metrics.set_alarm_states(*labels, outcome.outputs["alarms"] or ())
    return patch


def _normal(value: Any) -> Any:
    """``value`` as a merge patch leaves it: no nulls in objects, and conditions keyed by type (order is noise)."""
    if isinstance(value, Mapping):
        return {k: _normal(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        items = [_normal(v) for v in value]
        if items and all(isinstance(i, dict) and "type" in i for i in items):
            return {str(i["type"]): i for i in items}
        return items
    return value


def same_status(before: Any, after: Any) -> bool:
    """Whether writing ``after`` over ``before`` (one status field, merge-patched) would change nothing."""
    return bool(_normal(before) == _normal(after))


def changes(current: Mapping[str, Any] | None, patch: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``patch`` that change ``current``; empty when nothing but the :data:`STAMPS` would."""
    status = current or {}
    delta = {key: value for key, value in patch.items() if not same_status(status.get(key), value)}
    return delta if set(delta) - STAMPS else {}
