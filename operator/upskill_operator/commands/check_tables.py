"""``check``'s table rows: each UpskillTable's ConfigMap, used as an app would.

Only the ConfigMap's values are used (keys with ``spec.connection.keyPrefix``): DescribeTable on
TABLE_NAME, then a Query on PARTITION_KEY and one per entry of INDEXES, with a key value that
matches nothing (the answer, not the items, is what is checked).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.session import AwsClients
from upskill_operator.db.app_values import AppResult
from upskill_operator.errors import OperatorError
from upskill_operator.kube.client import Kube

__all__ = ["PROBE_VALUES", "table_rows"]

PROBE_VALUES: dict[str, dict[str, Any]] = {
    "S": {"S": "upskill-check-matches-nothing"},
    "N": {"N": "-987654321.123456789"},
    "B": {"B": b"upskill-check-matches-nothing"},
}
"""A partition key value per attribute type that no item is expected to have."""

TableRow = tuple[str, str, str, AppResult]
"""(UpskillTable name, value source, call, result)."""


def _timed(call: Callable[[], object]) -> AppResult:
    started = time.perf_counter()
    try:
        call()
    except OperatorError as exc:
        return AppResult(False, f"FAIL {exc.reason}: {exc}", time.perf_counter() - started)
    return AppResult(True, "ok", time.perf_counter() - started)


def _indexes(text: str) -> list[dict[str, Any]] | str:
    try:
        loaded = json.loads(text or "[]")
    except ValueError:
        return "FAIL INDEXES is not JSON"
    if not isinstance(loaded, list) or not all(isinstance(i, dict) and i.get("name") for i in loaded):
        return "FAIL INDEXES is not a list of {name, partitionKey, partitionKeyType}"
    return loaded


def _rows_for(body: Mapping[str, Any], kube: Kube, aws: AwsClients) -> list[TableRow]:
    name, namespace = body["metadata"]["name"], body["metadata"].get("namespace", "")
    connection = (body.get("spec") or {}).get("connection") or {}
    config_map, prefix = str(connection["configMapName"]), str(connection.get("keyPrefix") or "")
    source = f"ConfigMap {config_map}/{prefix}TABLE_NAME"
    found = kube.get_config_map(namespace, config_map)
    if found is None:
        return [(name, source, "DescribeTable", AppResult(False, "FAIL ConfigMap not found"))]
    data: dict[str, str] = {
        k[len(prefix) :]: str(v) for k, v in (found.get("data") or {}).items() if k.startswith(prefix)
    }
    missing = [f"{prefix}{k}" for k in ("TABLE_NAME", "PARTITION_KEY", "PARTITION_KEY_TYPE") if not data.get(k)]
    if missing:
        return [(name, source, "DescribeTable", AppResult(False, f"FAIL keys missing: {', '.join(missing)}"))]
    region = data.get("AWS_REGION") or aws.settings.region
    clients = aws if region == aws.settings.region else AwsClients(aws.settings.model_copy(update={"region": region}))
    dynamodb, table = DynamoDB(clients), data["TABLE_NAME"]
    described = _timed(lambda: dynamodb.describe_table(table))
    rows: list[TableRow] = [(name, source, "DescribeTable", described)]
    if not described.ok:
        return rows
    queries: list[tuple[str, str | None, str, str]] = [
        ("Query", None, data["PARTITION_KEY"], data["PARTITION_KEY_TYPE"])
    ]
    indexes = _indexes(data.get("INDEXES", "[]"))
    if isinstance(indexes, str):
        rows.append((name, f"ConfigMap {config_map}/{prefix}INDEXES", "Query", AppResult(False, indexes)))
        indexes = []
    queries += [
        (f"Query:{i['name']}", str(i["name"]), str(i.get("partitionKey")), str(i.get("partitionKeyType")))
        for i in indexes
    ]
    for label, index_name, key, key_type in queries:
        value = PROBE_VALUES.get(key_type)
        if value is None:
            rows.append((name, source, label, AppResult(False, f"FAIL key type {key_type!r} is not S, N or B")))
            continue
        rows.append((name, source, label, _timed(partial(dynamodb.query, table, key, value, index_name=index_name))))
    return rows


def table_rows(objects: list[dict[str, Any]], kube: Kube, aws: AwsClients) -> list[TableRow]:
    """Rows per UpskillTable with a connection ConfigMap: DescribeTable, Query, one Query per index."""
    wanted = [o for o in objects if ((o.get("spec") or {}).get("connection") or {}).get("configMapName")]
    return [row for body in wanted for row in _rows_for(body, kube, aws)]
