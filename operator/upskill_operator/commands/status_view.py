"""What ``status`` shows of one resource: a fixed set of fields picked from its status, never the whole of it.

Each view has the same keys for every kind (``null`` where a kind has no such part), so ``-o json`` is stable
(docs/dev.md). Only the fields named here are read: status carries no secret value, and a field added to
status later is not shown until it is added here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ABNORMAL_WHEN_TRUE", "SCHEMA", "document", "view"]

SCHEMA = "upskill.io/status/v1"
ABNORMAL_WHEN_TRUE = frozenset({"Terminal", "Recoverable"})
"""Condition types that report a problem when True; every other type reports one when not True."""
DEFAULT_SLO_MS = 100


def _get(mapping: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def _conditions(status: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "type": str(c.get("type", "")),
            "status": str(c.get("status", "Unknown")),
            "reason": c.get("reason") or "",
            "message": c.get("message") or "",
            "lastTransitionTime": c.get("lastTransitionTime"),
        }
        for c in status.get("conditions") or ()
        if isinstance(c, Mapping)
    ]


def _status_of(conditions: Sequence[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    return next((c for c in conditions if c["type"] == kind), None)


def _waiting_for(ready: str, terminal: bool, conditions: Sequence[Mapping[str, Any]], message: str) -> str | None:
    """What a resource that is not Ready waits for: Synced's message, else Ready's, else status.message."""
    if ready == "True" or terminal:
        return None
    for kind in ("Synced", "Ready"):
        found = _status_of(conditions, kind)
        if found and found["status"] != "True" and found["message"]:
            return str(found["message"])
    return message or "the operator has not reported on it yet"


def _endpoints(status: Mapping[str, Any]) -> dict[str, Any] | None:
    found = status.get("endpoints")
    if not isinstance(found, Mapping):
        return None
    keys = ("proxy", "proxyReadOnly", "writer", "reader")
    return {**{k: found.get(k) for k in keys}, "port": status.get("port")}


def _verdict(conditions: Sequence[Mapping[str, Any]], kind: str) -> bool | None:
    """Whether the condition is True; None while it is absent or Unknown (no verdict yet)."""
    found = _status_of(conditions, kind)
    return None if found is None or found["status"] == "Unknown" else found["status"] == "True"


def _latency(body: Mapping[str, Any], conditions: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    found = _get(body, "status", "latency")
    probe = _get(body, "spec", "probe")
    if not isinstance(found, Mapping) and not isinstance(probe, Mapping):
        return None
    found = found if isinstance(found, Mapping) else {}
    return {
        "p50Ms": found.get("p50Ms"),
        "p99Ms": found.get("p99Ms"),
        "sloMs": _get(probe, "sloMilliseconds") or DEFAULT_SLO_MS,
        "withinSLO": _verdict(conditions, "LatencyWithinSLO"),
        "lastProbeTime": found.get("lastProbeTime"),
    }


def _migrations(body: Mapping[str, Any], conditions: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    found = _get(body, "status", "migrations")
    condition = _status_of(conditions, "MigrationsApplied")
    if not isinstance(found, Mapping) and condition is None and not _get(body, "spec", "migrations"):
        return None
    found = found if isinstance(found, Mapping) else {}
    return {
        "applied": int(found.get("applied") or 0),
        "latest": found.get("latest"),
        "done": None if condition is None else condition["status"] == "True",
    }


def _alarms(body: Mapping[str, Any], conditions: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The CloudWatch alarms in ``status.alarms`` by state, and the ``AlarmsOK`` verdict."""
    found = _get(body, "status", "alarms")
    if not isinstance(found, list) and _get(body, "spec", "monitoring") is None:
        return None
    alarms = [a for a in found or [] if isinstance(a, Mapping)]
    return {
        "total": len(alarms),
        "firing": sorted(str(a.get("name")) for a in alarms if a.get("state") == "ALARM"),
        "insufficientData": sum(1 for a in alarms if a.get("state") == "INSUFFICIENT_DATA"),
        "ok": _verdict(conditions, "AlarmsOK"),
    }


def _secret(status: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "secretName": status.get("secretName"),
        "versionId": status.get("versionId"),
        "versionCreatedTime": status.get("versionCreatedTime"),
        "previousVersionId": status.get("previousVersionId"),
        "lastRotatedTime": status.get("lastRotatedTime"),
        "nextRotationTime": status.get("nextRotationTime"),
        "target": status.get("syncedSecretName"),
        "syncedVersionId": status.get("syncedVersionId"),
        "syncedTime": status.get("syncedTime"),
    }


def _table(status: Mapping[str, Any]) -> dict[str, Any]:
    return {"tableName": status.get("tableName"), "tableStatus": status.get("tableStatus"), "arn": status.get("arn")}


def view(kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The fields ``status`` shows of one UpskillDatabase, UpskillTable or UpskillSecret."""
    raw = body.get("status")
    status: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    conditions = _conditions(status)
    ready_condition = _status_of(conditions, "Ready")
    ready = str(ready_condition["status"]) if ready_condition else "Unknown"
    terminal_condition = _status_of(conditions, "Terminal")
    terminal = bool(terminal_condition and terminal_condition["status"] == "True")
    message = str(status.get("message") or "")
    return {
        "kind": kind,
        "namespace": _get(body, "metadata", "namespace") or "",
        "name": _get(body, "metadata", "name") or "",
        "phase": status.get("phase") or "Pending",
        "ready": ready,
        "terminal": terminal,
        "message": message or None,
        "waitingFor": _waiting_for(ready, terminal, conditions, message),
        "conditions": conditions,
        "endpoints": _endpoints(status) if kind == "UpskillDatabase" else None,
        "latency": _latency(body, conditions) if kind in ("UpskillDatabase", "UpskillTable") else None,
        "migrations": _migrations(body, conditions) if kind == "UpskillDatabase" else None,
        "alarms": _alarms(body, conditions) if kind in ("UpskillDatabase", "UpskillTable") else None,
        "secret": _secret(status) if kind == "UpskillSecret" else None,
        "table": _table(status) if kind == "UpskillTable" else None,
    }


def document(context: str, views: Sequence[Mapping[str, Any]], namespaces: Sequence[str]) -> dict[str, Any]:
    """The ``-o json`` document: every namespace asked for (listed even when empty), its resources in order."""
    names = sorted({*namespaces, *(str(v["namespace"]) for v in views)})
    return {
        "apiVersion": SCHEMA,
        "context": context,
        "namespaces": [
            {"namespace": ns, "resources": [dict(v) for v in views if v["namespace"] == ns]} for ns in names
        ],
    }
