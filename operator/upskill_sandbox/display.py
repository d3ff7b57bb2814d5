"""The sandbox's live view: one row per custom resource, with its phase and conditions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["not_ready", "render_table"]


def _condition(obj: Mapping[str, Any], ctype: str) -> Mapping[str, Any]:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return dict(cond)
    return {}


def not_ready(objects: Iterable[Mapping[str, Any]]) -> list[str]:
    """``Kind ns/name: message`` for every object whose Ready condition is not True."""
    out = []
    for obj in objects:
        ready = _condition(obj, "Ready")
        if ready.get("status") != "True":
            meta = obj.get("metadata", {})
            why = ready.get("message") or (obj.get("status") or {}).get("message") or "not reconciled yet"
            out.append(f"{obj.get('kind')} {meta.get('namespace')}/{meta.get('name')}: {why}")
    return out


def render_table(objects: Iterable[Mapping[str, Any]]) -> str:
    rows = [("KIND", "NAME", "PHASE", "READY", "SYNCED", "MESSAGE")]
    for obj in objects:
        meta, status = obj.get("metadata", {}), obj.get("status") or {}
        rows.append(
            (
                str(obj.get("kind", "")),
                f"{meta.get('namespace')}/{meta.get('name')}",
                str(status.get("phase") or "Pending"),
                str(_condition(obj, "Ready").get("status", "Unknown")),
                str(_condition(obj, "Synced").get("status", "Unknown")),
                str(status.get("message") or "")[:70],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows)
