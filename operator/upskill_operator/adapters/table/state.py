"""A DynamoDB table as the operator compares it: built from the spec, or parsed from AWS.

Both sides land in the same :class:`TableState`, with AWS defaults normalised
away, so that comparing them is plain equality and an unchanged table never
shows a diff:

- SSE: no ``SSEDescription``, or one that is DISABLED, both mean the AWS-owned key (``None``);
- streams: no ``StreamSpecification`` and ``StreamEnabled: false`` both mean no stream;
- TTL: DynamoDB keeps ``AttributeName`` after TTL is disabled; only an enabled TTL counts;
- PITR: a missing ``RecoveryPeriodInDays`` is AWS's default of 35 days;
- GSI projections: ``NonKeyAttributes`` is a set, its order is meaningless;
- billing: an old on-demand table may have no ``BillingModeSummary`` but reports zero capacity.

Pure functions only: no AWS calls, so every rule is unit-tested without an emulator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.models.table import GlobalIndex, KeyAttribute, TableSpec

__all__ = [
    "DEFAULT_PITR_DAYS",
    "Index",
    "Key",
    "ObservedTable",
    "TableState",
    "attribute_definitions",
    "create_request",
    "desired_table",
    "index_request",
    "key_schema",
    "observed_table",
    "same_keys",
]

DEFAULT_PITR_DAYS = 35
"""What AWS applies when RecoveryPeriodInDays is not given."""

AwsDict = dict[str, Any]


@dataclass(frozen=True)
class Key:
    """One key attribute. ``type`` is empty when AWS did not report it (treated as matching any type)."""

    name: str
    type: str = ""

    def __str__(self) -> str:
        return f"{self.name}:{self.type or '?'}"


@dataclass(frozen=True)
class Index:
    """A global secondary index: partition key, then optional sort key."""

    name: str
    keys: tuple[Key, ...]
    projection: str = "ALL"
    non_key_attributes: frozenset[str] = frozenset()
    status: str = "ACTIVE"

    def same_shape(self, other: Index) -> bool:
        """Equal keys and projection; an unreported key type matches any."""
        return (
            same_keys(self.keys, other.keys)
            and self.projection == other.projection
            and self.non_key_attributes == other.non_key_attributes
        )


def same_keys(want: tuple[Key, ...], have: tuple[Key, ...]) -> bool:
    """Key names match in order, and types match wherever AWS reported one."""
    return len(want) == len(have) and all(
        w.name == h.name and (not w.type or not h.type or w.type == h.type) for w, h in zip(want, have, strict=True)
    )


@dataclass(frozen=True)
class TableState:
    """Everything the operator manages on a table, normalised."""

    name: str
    keys: tuple[Key, ...]
    indexes: Mapping[str, Index] = field(default_factory=dict)
    billing_mode: str = "PAY_PER_REQUEST"
    stream: str | None = None
    """Stream view type, or None when there is no enabled stream."""
    kms_key: str | None = None
    """KMS key ARN for SSE-KMS, or None for the AWS-owned key."""
    deletion_protection: bool = False
    ttl_attribute: str | None = None
    """The TTL attribute while TTL is enabled, else None."""
    pitr_enabled: bool = False
    pitr_days: int = DEFAULT_PITR_DAYS
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ObservedTable(TableState):
    """A table as AWS reported it, with the transitional states the diff must wait for."""

    arn: str = ""
    status: str = "ACTIVE"
    stream_arn: str | None = None
    ttl_status: str = "DISABLED"
    sse_status: str | None = None


def _key(attr: KeyAttribute) -> Key:
    return Key(attr.name, attr.type)


def _spec_keys(partition: KeyAttribute, sort: KeyAttribute | None) -> tuple[Key, ...]:
    return (_key(partition),) if sort is None else (_key(partition), _key(sort))


def _spec_index(index: GlobalIndex) -> Index:
    return Index(
        index.name, _spec_keys(index.partition, index.sort), index.projection, frozenset(index.non_key_attributes)
    )


def desired_table(spec: TableSpec, name: str, tags: Mapping[str, str], kms_key_arn: str | None) -> TableState:
    """The state the spec asks for. ``kms_key_arn`` is the spec's key already resolved to an ARN."""
    pitr = spec.point_in_time_recovery
    return TableState(
        name=name,
        keys=_spec_keys(spec.keys.partition, spec.keys.sort),
        indexes={index.name: _spec_index(index) for index in spec.global_indexes},
        stream=spec.stream,
        kms_key=kms_key_arn if spec.encryption is not None else None,
        deletion_protection=spec.deletion_protection,
        ttl_attribute=spec.ttl_attribute,
        pitr_enabled=pitr.enabled,
        pitr_days=pitr.recovery_period_days,
        tags=dict(tags),
    )


def _aws_keys(schema: Iterable[Mapping[str, str]], types: Mapping[str, str]) -> tuple[Key, ...]:
    ordered = sorted(schema, key=lambda element: element.get("KeyType") != "HASH")  # HASH, then RANGE
    return tuple(Key(e["AttributeName"], types.get(e["AttributeName"], "")) for e in ordered)


def _aws_index(raw: Mapping[str, Any], types: Mapping[str, str]) -> Index:
    projection = raw.get("Projection") or {}
    return Index(
        name=raw["IndexName"],
        keys=_aws_keys(raw.get("KeySchema", []), types),
        projection=projection.get("ProjectionType", "ALL"),
        non_key_attributes=frozenset(projection.get("NonKeyAttributes") or ()),
        status=raw.get("IndexStatus", "ACTIVE"),
    )


def _billing_mode(table: Mapping[str, Any]) -> str:
    summary = table.get("BillingModeSummary") or {}
    if summary.get("BillingMode"):
        return str(summary["BillingMode"])
    capacity = table.get("ProvisionedThroughput") or {}
    on_demand = not capacity.get("ReadCapacityUnits") and not capacity.get("WriteCapacityUnits")
    return "PAY_PER_REQUEST" if on_demand else "PROVISIONED"


def observed_table(
    table: Mapping[str, Any], ttl: Mapping[str, Any], backups: Mapping[str, Any], tags: Mapping[str, str]
) -> ObservedTable:
    """Parse DescribeTable, DescribeTimeToLive, DescribeContinuousBackups and the tag list.

    The SSE key is kept as AWS reported it; resolving an alias to an ARN needs KMS,
    which is the adapter's job.
    """
    types = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions") or ()}
    stream = table.get("StreamSpecification") or {}
    sse = table.get("SSEDescription") or {}
    sse_on = sse.get("SSEType") == "KMS" and sse.get("Status") not in (None, "DISABLED", "DISABLING")
    ttl_status = str(ttl.get("TimeToLiveStatus") or "DISABLED")
    pitr = backups.get("PointInTimeRecoveryDescription") or {}
    stream_view = stream.get("StreamViewType") if stream.get("StreamEnabled") else None
    return ObservedTable(
        name=table["TableName"],
        keys=_aws_keys(table.get("KeySchema", []), types),
        indexes={raw["IndexName"]: _aws_index(raw, types) for raw in table.get("GlobalSecondaryIndexes") or ()},
        billing_mode=_billing_mode(table),
        stream=stream_view,
        kms_key=sse.get("KMSMasterKeyArn") if sse_on else None,
        deletion_protection=bool(table.get("DeletionProtectionEnabled")),
        ttl_attribute=ttl.get("AttributeName") if ttl_status in ("ENABLED", "ENABLING") else None,
        pitr_enabled=pitr.get("PointInTimeRecoveryStatus") == "ENABLED",
        pitr_days=int(pitr.get("RecoveryPeriodInDays") or DEFAULT_PITR_DAYS),
        tags=dict(tags),
        arn=table["TableArn"],
        status=str(table.get("TableStatus") or "ACTIVE"),
        stream_arn=table.get("LatestStreamArn") if stream_view else None,
        ttl_status=ttl_status,
        sse_status=sse.get("Status"),
    )


def key_schema(keys: tuple[Key, ...]) -> list[dict[str, str]]:
    """AWS KeySchema: the first key is HASH, the second RANGE."""
    return [{"AttributeName": k.name, "KeyType": kind} for k, kind in zip(keys, ("HASH", "RANGE"), strict=False)]


def attribute_definitions(*key_sets: tuple[Key, ...]) -> list[dict[str, str]]:
    """AttributeDefinitions for every key attribute used, each once, in first-use order."""
    seen: dict[str, str] = {}
    for keys in key_sets:
        for key in keys:
            seen.setdefault(key.name, key.type)
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in seen.items()]


def index_request(index: Index) -> AwsDict:
    """A GlobalSecondaryIndex (CreateTable) or CreateGlobalSecondaryIndexAction (UpdateTable); on demand."""
    projection: AwsDict = {"ProjectionType": index.projection}
    if index.non_key_attributes:
        projection["NonKeyAttributes"] = sorted(index.non_key_attributes)
    return {"IndexName": index.name, "KeySchema": key_schema(index.keys), "Projection": projection}


def create_request(desired: TableState) -> AwsDict:
    """Keyword arguments of ``DynamoDB.create_table``: everything CreateTable can set in one call.

    TTL and PITR have their own APIs, which need an ACTIVE table: later passes apply them.
    """
    indexes = list(desired.indexes.values())
    return {
        "key_schema": key_schema(desired.keys),
        "attribute_definitions": attribute_definitions(desired.keys, *(i.keys for i in indexes)),
        "global_indexes": [index_request(i) for i in indexes],
        "stream": {"StreamEnabled": True, "StreamViewType": desired.stream} if desired.stream else None,
        "sse": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": desired.kms_key} if desired.kms_key else None,
        "deletion_protection": desired.deletion_protection,
        "tags": dict(desired.tags),
    }
