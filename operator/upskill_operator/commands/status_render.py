"""The ``status`` screen of one namespace: a resource table, then endpoints, latency, migrations, alarms, secrets and
what each resource that is not Ready waits for. Sections with nothing to show are left out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from upskill_operator.commands.status_view import ABNORMAL_WHEN_TRUE

__all__ = ["conditions_cell", "render_namespace", "table"]

Row = Sequence[str]


def table(headers: Row, rows: Sequence[Row], indent: str = "") -> list[str]:
    """Left-aligned columns two spaces apart, as kubectl prints them."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [headers, *rows]]


def _text(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def _ms(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1f}"


def _short(version: Any) -> str:
    return "-" if not version else str(version)[:8]


def conditions_cell(conditions: Sequence[Mapping[str, Any]]) -> str:
    """``ok (N)`` when every condition is as it should be, else the ones that are not, as ``Type=Status``."""
    wrong = [
        f"{c['type']}={c['status']}"
        for c in conditions
        if (c["status"] == "True") == (c["type"] in ABNORMAL_WHEN_TRUE) and c["type"] != "Ready"
    ]
    if not conditions:
        return "-"
    return " ".join(wrong) if wrong else f"ok ({len(conditions)})"


def _resources(views: Sequence[Mapping[str, Any]]) -> list[str]:
    rows = [(v["kind"], v["name"], v["ready"], v["phase"], conditions_cell(v["conditions"])) for v in views]
    return table(("KIND", "NAME", "READY", "PHASE", "CONDITIONS"), rows)


def _endpoints(views: Sequence[Mapping[str, Any]]) -> list[str]:
    rows: list[Row] = []
    for v in views:
        endpoints = v.get("endpoints") or {}
        port = endpoints.get("port")
        rows.extend(
            (v["name"], role, f"{endpoints[role]}:{port}" if port else str(endpoints[role]))
            for role in ("proxy", "proxyReadOnly", "writer", "reader")
            if endpoints.get(role)
        )
        table_info = v.get("table") or {}
        if table_info.get("tableName"):
            rows.append((v["name"], "table", f"{table_info['tableName']} ({_text(table_info.get('tableStatus'))})"))
    return table(("RESOURCE", "ENDPOINT", "ADDRESS"), rows, "  ") if rows else []


def _latency(views: Sequence[Mapping[str, Any]]) -> list[str]:
    rows: list[Row] = []
    for v in views:
        latency = v.get("latency")
        if latency:
            within = latency.get("withinSLO")
            verdict = "-" if within is None else ("within" if within else "ABOVE")
            rows.append(
                (v["name"], _ms(latency.get("p50Ms")), _ms(latency.get("p99Ms")), str(latency["sloMs"]), verdict)
            )
    return table(("RESOURCE", "P50 MS", "P99 MS", "SLO MS", "P99 VS SLO"), rows, "  ") if rows else []


def _migrations(views: Sequence[Mapping[str, Any]]) -> list[str]:
    rows: list[Row] = []
    for v in views:
        found = v.get("migrations")
        if found:
            done = found.get("done")
            state = "-" if done is None else ("applied" if done else "PENDING")
            rows.append((v["name"], str(found["applied"]), _text(found.get("latest")), state))
    return table(("RESOURCE", "APPLIED", "LATEST", "STATE"), rows, "  ") if rows else []


def _alarms(views: Sequence[Mapping[str, Any]]) -> list[str]:
    rows: list[Row] = []
    for v in views:
        found = v.get("alarms")
        if found:
            verdict = "-" if found.get("ok") is None else ("ok" if found["ok"] else "FIRING")
            firing = ", ".join(found["firing"]) or "-"
            rows.append((v["name"], str(found["total"]), str(found["insufficientData"]), verdict, firing))
    return table(("RESOURCE", "ALARMS", "NO DATA", "STATE", "IN ALARM"), rows, "  ") if rows else []


def _secrets(views: Sequence[Mapping[str, Any]]) -> list[str]:
    rows: list[Row] = []
    for v in views:
        found = v.get("secret")
        if found and found.get("versionId"):
            synced = found.get("syncedVersionId")
            in_step = "-" if not synced else ("yes" if synced == found.get("versionId") else "NO")
            rows.append(
                (
                    v["name"],
                    _short(found.get("versionId")),
                    _text(found.get("versionCreatedTime")),
                    _text(found.get("lastRotatedTime")),
                    _text(found.get("nextRotationTime")),
                    _text(found.get("target")),
                    in_step,
                )
            )
    headers = ("RESOURCE", "VERSION", "CREATED", "LAST ROTATION", "NEXT ROTATION", "TARGET", "IN STEP")
    return table(headers, rows, "  ") if rows else []


def _waiting(views: Sequence[Mapping[str, Any]]) -> list[str]:
    lines: list[str] = []
    for v in views:
        if v.get("terminal"):
            terminal: Mapping[str, Any] = next((c for c in v["conditions"] if c["type"] == "Terminal"), {})
            reason = f" ({terminal['reason']})" if terminal.get("reason") else ""
            lines.append(f"  {v['kind']}/{v['name']}: TERMINAL{reason}: {terminal.get('message') or v['message']}")
        elif v.get("waitingFor"):
            lines.append(f"  {v['kind']}/{v['name']}: waits for: {v['waitingFor']}")
    return lines


def render_namespace(namespace: str, context: str, views: Sequence[Mapping[str, Any]]) -> str:
    """The screen of one namespace."""
    ready = sum(1 for v in views if v["ready"] == "True")
    plural = "" if len(views) == 1 else "s"
    head = f"Namespace {namespace} (context {context}): {len(views)} resource{plural}, {ready} Ready"
    if not views:
        return f"Namespace {namespace} (context {context}): no UpskillDatabase, UpskillTable or UpskillSecret"
    lines = [head, "", *_resources(views)]
    for title, section in (
        ("Endpoints", _endpoints(views)),
        ("Latency (probe)", _latency(views)),
        ("Migrations", _migrations(views)),
        ("Alarms (CloudWatch)", _alarms(views)),
        ("Secrets", _secrets(views)),
        ("Not Ready", _waiting(views)),
    ):
        if section:
            lines += ["", title, *section]
    return "\n".join(lines)
