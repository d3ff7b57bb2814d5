"""Server-side printing (``meta.k8s.io/v1 Table``), so that ``kubectl get`` shows a CRD's printer columns.

kubectl asks for tables with ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``. Columns are
``Name`` plus the version's ``additionalPrinterColumns`` (or ``Name`` and ``Age`` when it declares
none, and for built-ins). Printer-column JSONPaths are evaluated in the subset CRDs use: dotted
fields, ``[n]`` indexes and ``[?(@.field=="value")]`` filters.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

__all__ = ["human_age", "jsonpath", "table", "wants_table"]

_TOKEN = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*[\"']([^\"']*)[\"']\)\]")
_AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def jsonpath(obj: Any, path: str) -> list[Any]:
    """Every value ``path`` selects in ``obj`` (an empty list when nothing matches)."""
    values = [obj]
    for field, index, filter_field, filter_value in _TOKEN.findall(path.strip().removeprefix("{").removesuffix("}")):
        found: list[Any] = []
        for value in values:
            if field and isinstance(value, dict) and field in value:
                found.append(value[field])
            elif index and isinstance(value, list) and int(index) < len(value):
                found.append(value[int(index)])
            elif filter_field and isinstance(value, list):
                found += [item for item in value if str(_dig(item, filter_field)) == filter_value]
        values = found
    return values


def _dig(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def human_age(timestamp: str) -> str:
    """An age as kubectl shows it (``45s``, ``3m12s``, ``5h``, ``2d3h``): dates are printed server-side."""
    try:
        then = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    except ValueError:
        return timestamp
    seconds = max(0, int((datetime.datetime.now(datetime.UTC) - then).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d"


def _cell(obj: dict[str, Any], column: dict[str, Any]) -> Any:
    values = jsonpath(obj, str(column.get("jsonPath", "")))
    if not values:
        return None
    value = values[0]
    if column.get("type") == "date" and isinstance(value, str):
        return human_age(value)
    return value if isinstance(value, str | int | float | bool) else json.dumps(value)


def table(objs: list[dict[str, Any]], columns: list[dict[str, Any]], resource_version: str) -> dict[str, Any]:
    """A Table of ``objs`` with the given printer columns (``Name`` is always first)."""
    columns = columns or [_AGE]
    definitions = [{"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0}]
    definitions += [
        {
            "name": c["name"],
            "type": c.get("type", "string"),
            "format": c.get("format", ""),
            "description": c.get("description", ""),
            "priority": c.get("priority", 0),
        }
        for c in columns
    ]
    rows = [
        {
            "cells": [obj["metadata"]["name"], *(_cell(obj, column) for column in columns)],
            "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]},
        }
        for obj in objs
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    }
