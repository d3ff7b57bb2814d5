"""The keys of an UpskillTable's connection ConfigMap: what an app needs to use the table.

Every key carries ``spec.connection.keyPrefix`` (none by default), so several tables' ConfigMaps
load into one pod with ``envFrom``. Names, ARNs and the stream come from the table as observed;
keys and indexes from the spec the table is kept at.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from upskill_operator.models.table import GlobalIndex, TableSpec
from upskill_operator.reconcile.protocol import Target

__all__ = ["KEYS", "data_fn", "table_config_data"]

KEYS = (
    "TABLE_NAME",
    "TABLE_ARN",
    "STREAM_ARN",
    "AWS_REGION",
    "PARTITION_KEY",
    "PARTITION_KEY_TYPE",
    "SORT_KEY",
    "SORT_KEY_TYPE",
    "TTL_ATTRIBUTE",
    "INDEX_NAMES",
    "INDEXES",
)
"""Every key the operator may write (unprefixed); STREAM_ARN, SORT_KEY*, TTL_ATTRIBUTE only when set.
INDEX_NAMES is empty and INDEXES is ``[]`` for a table without indexes."""


def _index(index: GlobalIndex) -> dict[str, str]:
    entry = {"name": index.name, "partitionKey": index.partition.name, "partitionKeyType": index.partition.type}
    if index.sort is not None:
        entry |= {"sortKey": index.sort.name, "sortKeyType": index.sort.type}
    entry["projection"] = index.projection
    return entry


def table_config_data(spec: TableSpec, outputs: Mapping[str, Any], region: str) -> dict[str, str] | None:
    """The ConfigMap's data; None until the table exists (its ARN is known)."""
    if not outputs.get("arn"):
        return None
    sort = spec.keys.sort
    values: dict[str, str | None] = {
        "TABLE_NAME": outputs.get("tableName"),
        "TABLE_ARN": outputs.get("arn"),
        "STREAM_ARN": outputs.get("streamArn"),
        "AWS_REGION": region,
        "PARTITION_KEY": spec.keys.partition.name,
        "PARTITION_KEY_TYPE": spec.keys.partition.type,
        "SORT_KEY": sort.name if sort else None,
        "SORT_KEY_TYPE": sort.type if sort else None,
        "TTL_ATTRIBUTE": spec.ttl_attribute,
        "INDEX_NAMES": ",".join(index.name for index in spec.global_indexes),
        "INDEXES": json.dumps([_index(index) for index in spec.global_indexes], separators=(",", ":")),
    }
    prefix = (spec.connection.key_prefix or "") if spec.connection else ""
    return {f"{prefix}{key}": value for key, value in values.items() if value is not None}


def data_fn(region: str) -> Any:
    """The ConnectionConfigMapAdapter's data function for tables in ``region``."""

    def data(target: Target, outputs: Mapping[str, Any]) -> dict[str, str] | None:
        spec = target.spec
        assert isinstance(spec, TableSpec)
        return table_config_data(spec, outputs, region)

    return data
