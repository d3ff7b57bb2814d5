"""UpskillTable: a DynamoDB table, on demand, with its indexes, TTL, stream, PITR and encryption."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from upskill_operator.models.common import (
    KindInfo,
    KmsKeyId,
    LocalReference,
    Model,
    PrinterColumn,
    ResourceStatus,
    TableTags,
    immutable,
)
from upskill_operator.models.database import ProbeSpec
from upskill_operator.models.database_status import LatencyStatus
from upskill_operator.models.monitoring import AlarmStatus, TableMonitoring
from upskill_operator.models.rules import Between, LocalName, Matches, Problem, fail, raise_all
from upskill_operator.models.table_restore import BackupRequest, BackupStatus, RestoredFromStatus, RestoreSpec

__all__ = [
    "KIND",
    "ConnectionSpec",
    "EncryptionSpec",
    "GlobalIndex",
    "KeyAttribute",
    "KeySchema",
    "PointInTimeRecovery",
    "TableSpec",
    "TableStatus",
]

AttributeType = Literal["S", "N", "B"]
StreamView = Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]
TableName = Annotated[str, Matches(r"^[a-zA-Z0-9_.-]{3,}$", "must be 3-255 characters of a-z A-Z 0-9 _ . -", 255)]
"""DynamoDB's rule for table and index names."""

MAX_PROJECTED = 100
"""NonKeyAttributes summed over every secondary index of a table (DynamoDB counts repeats twice)."""
MAX_PROJECTED_PER_INDEX = 20
"""NonKeyAttributes of one index (DynamoDB's Projection: at most 20 items)."""


def _utf8_bytes(name: str) -> str:
    """DynamoDB measures key and projected attribute names in UTF-8 bytes, at most 255."""
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > 255:
        raise ValueError(f"must be at most 255 bytes in UTF-8 (got {size})")
    return name


AttributeName = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_utf8_bytes)]
"""A key, projected or TTL attribute name: 1-255 characters and at most 255 bytes."""


class KeyAttribute(Model):
    """One key attribute: its name and scalar type."""

    name: AttributeName = Field(description="Attribute name, 1-255 bytes.")
    type: AttributeType = Field(description="S (string), N (number) or B (binary).")


class KeySchema(Model):
    """The primary key. It cannot change once the table exists."""

    partition: KeyAttribute = Field(description="Partition (hash) key.")
    sort: KeyAttribute | None = Field(None, description="Sort (range) key, optional.")

    @model_validator(mode="after")
    def _distinct(self) -> KeySchema:
        if self.sort is not None and self.sort.name == self.partition.name:
            fail((("sort", "name"), f"must differ from partition.name (both are {self.partition.name[:40]!r})"))
        return self


class GlobalIndex(Model):
    """A global secondary index. Indexes are added and removed one at a time, as DynamoDB requires."""

    name: TableName = Field(description="Index name, 3-255 characters of a-z A-Z 0-9 _ . -")
    partition: KeyAttribute = Field(description="Partition key of the index.")
    sort: KeyAttribute | None = Field(None, description="Sort key of the index, optional.")
    projection: Literal["ALL", "KEYS_ONLY", "INCLUDE"] = Field("ALL", description="Attributes copied to the index.")
    non_key_attributes: list[AttributeName] = Field(
        default_factory=list,
        max_length=MAX_PROJECTED_PER_INDEX,
        description="With projection INCLUDE: the extra attributes (at most 20 per index, 100 per table).",
    )

    @model_validator(mode="after")
    def _projection(self) -> GlobalIndex:
        if self.sort is not None and self.sort.name == self.partition.name:
            fail((("sort", "name"), f"must differ from partition.name (both are {self.partition.name[:40]!r})"))
        if self.projection == "INCLUDE" and not self.non_key_attributes:
            fail((("nonKeyAttributes",), "required with projection INCLUDE"))
        if self.projection != "INCLUDE" and self.non_key_attributes:
            fail((("nonKeyAttributes",), f"only allowed with projection INCLUDE (got projection {self.projection})"))
        return self


class PointInTimeRecovery(Model):
    """Continuous backups. On by default: a table's data is the thing to keep."""

    enabled: bool = Field(True, description="Whether point-in-time recovery is on.")
    recovery_period_days: Annotated[int, Between(1, 35)] = Field(
        35, description="How far back a restore can go, 1-35 days."
    )


class EncryptionSpec(Model):
    """Server-side encryption with a customer-managed KMS key. Omit to use the AWS-owned key."""

    kms_key_id: KmsKeyId = Field(description="Key id, key ARN, alias name or alias ARN.")


LONGEST_KEY = "PARTITION_KEY_TYPE"
"""The longest ConfigMap key the operator writes (see adapters/table/config_keys.py)."""
KeyPrefix = Annotated[
    str,
    Matches(
        r"^[A-Za-z_][A-Za-z0-9_]*$",
        "must start an environment variable name (A-Z a-z 0-9 _, no leading digit), e.g. NOTIFICATIONS_",
        253 - len(LONGEST_KEY),
    ),
]
"""Prepended to every ConfigMap key; short enough that every key stays a valid (253-character) key."""


class ConnectionSpec(LocalReference):
    """Where apps find the table: a ConfigMap with its names, keys, indexes, ARNs and region."""

    referent = "a ConfigMap"

    config_map_name: Annotated[str, LocalName("a ConfigMap")] = Field(
        description="ConfigMap to write in the same namespace."
    )
    key_prefix: KeyPrefix | None = Field(
        None,
        description="Prepended to every key (e.g. NOTIFICATIONS_ gives NOTIFICATIONS_TABLE_NAME), so several tables "
        "load into one pod with envFrom. Keys of an earlier prefix are removed.",
    )


class TableSpec(Model):
    """Desired state of a DynamoDB table billed on demand."""

    table_name: TableName | None = Field(
        None,
        description="AWS table name. Defaults to <prefix>-<namespace>-<name>. Immutable.",
        json_schema_extra=immutable("spec.tableName: immutable after creation"),
    )
    keys: KeySchema = Field(
        description="Primary key schema. Immutable.", json_schema_extra=immutable("spec.keys: immutable after creation")
    )
    global_indexes: list[GlobalIndex] = Field(
        default_factory=list, max_length=20, description="Global secondary indexes (at most 20)."
    )
    ttl_attribute: AttributeName | None = Field(
        None, description="Attribute holding an epoch-seconds expiry (a Number); omit to disable."
    )
    stream: StreamView | None = Field(None, description="DynamoDB Streams view type; omit to disable the stream.")
    point_in_time_recovery: PointInTimeRecovery = Field(
        default_factory=PointInTimeRecovery, description="Point-in-time recovery settings."
    )
    encryption: EncryptionSpec | None = Field(None, description="SSE with a KMS key; omit for the AWS-owned key.")
    deletion_protection: bool = Field(
        True, description="AWS deletion protection. Must be false before a Delete policy may delete the table."
    )
    deletion_policy: Literal["Retain", "Delete"] = Field(
        "Retain", description="What deleting this resource does to the table: Retain (default) keeps it."
    )
    adopt: bool = Field(
        False,
        description="Adopt an existing, untagged table with the derived name (or one an administrator granted the "
        "namespace in UPSKILL_ADOPT_SCOPES).",
    )
    tags: TableTags = Field(default_factory=dict, description="Extra AWS tags (the upskill.io/ prefix is ours).")
    connection: ConnectionSpec | None = Field(None, description="Publish connection details in a ConfigMap.")
    probe: ProbeSpec | None = Field(
        None, description="Latency probe: a GetItem on a probe key every intervalSeconds; omit to disable."
    )
    restore: RestoreSpec | None = Field(
        None,
        description="Create the table from a point in time of another table or from a backup. Immutable.",
        json_schema_extra=immutable("spec.restore: immutable after creation"),
    )
    backups: list[BackupRequest] = Field(
        default_factory=list,
        max_length=50,
        description="On-demand backups, each taken once as <table>-<name>; dropping an entry keeps the backup.",
    )
    monitoring: TableMonitoring | None = Field(
        None, description="CloudWatch alarms for the table and its indexes; omit for none, {} for the defaults."
    )

    @model_validator(mode="after")
    def _attributes_agree(self) -> TableSpec:
        """An attribute used by several keys must have one type; index names must be unique."""
        problems: list[Problem] = []
        seen: dict[str, tuple[str, str]] = {}
        keys: list[tuple[tuple[str | int, ...], KeyAttribute | None]] = [
            (("keys", "partition"), self.keys.partition),
            (("keys", "sort"), self.keys.sort),
        ]
        for i, index in enumerate(self.global_indexes):
            keys += [(("globalIndexes", i, "partition"), index.partition), (("globalIndexes", i, "sort"), index.sort)]
        for loc, attr in keys:
            if attr is None:
                continue
            where = _path(loc)
            first_type, first_where = seen.setdefault(attr.name, (attr.type, where))
            if first_type != attr.type:
                problems.append(
                    (
                        (*loc, "type"),
                        f"attribute {attr.name[:40]!r} is type {first_type} in {first_where}; "
                        f"an attribute has one type (got {attr.type})",
                    )
                )
        problems += self._projection_problems() + self._ttl_problems(keys)
        for field, names in (
            ("globalIndexes", [index.name for index in self.global_indexes]),
            ("backups", [backup.name for backup in self.backups]),
        ):
            problems += [
                ((field, i, "name"), f"must be unique (repeated: {name})")
                for i, name in enumerate(names)
                if name in names[:i]
            ]
        raise_all(problems)
        return self

    def _projection_problems(self) -> list[Problem]:
        total = sum(len(index.non_key_attributes) for index in self.global_indexes)
        if total <= MAX_PROJECTED:
            return []
        return [
            (
                ("globalIndexes",),
                f"nonKeyAttributes summed over all indexes must be at most {MAX_PROJECTED} (got {total})",
            )
        ]

    def _ttl_problems(self, keys: list[tuple[tuple[str | int, ...], KeyAttribute | None]]) -> list[Problem]:
        """A TTL attribute that is a String or Binary key can never hold the Number TTL reads."""
        for loc, attr in keys:
            if attr is not None and attr.name == self.ttl_attribute and attr.type != "N":
                message = (
                    f"{attr.name[:40]!r} is a key of type {attr.type} ({_path(loc)}); TTL reads only Number "
                    "attributes (epoch seconds), so no item would ever expire"
                )
                return [(("ttlAttribute",), message)]
        return []


def _path(loc: tuple[str | int, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


class TableStatus(ResourceStatus):
    """Observed state of the table."""

    table_name: str | None = Field(None, description="AWS table name.")
    arn: str | None = Field(None, description="Table ARN.")
    stream_arn: str | None = Field(None, description="Latest stream ARN, when a stream is on.")
    table_status: str | None = Field(None, description="DynamoDB TableStatus (CREATING, ACTIVE, UPDATING, ...).")
    managed_tag_keys: list[str] = Field(default_factory=list, description="Tag keys the operator set last time.")
    latency: LatencyStatus | None = Field(None, description="Probe latency (GetItem), when spec.probe is set.")
    restored_from: RestoredFromStatus | None = Field(None, description="The restore the table was made by.")
    backups: list[BackupStatus] = Field(default_factory=list, description="The spec's on-demand backups.")
    alarms: list[AlarmStatus] | None = Field(
        None, description="The CloudWatch alarms of spec.monitoring, with their states (AlarmsOK sums them up)."
    )


KIND = KindInfo(
    kind="UpskillTable",
    plural="upskilltables",
    singular="upskilltable",
    short_names=("utable",),
    spec=TableSpec,
    status=TableStatus,
    description="A DynamoDB table billed on demand, with indexes, TTL, streams, PITR and KMS encryption.",
    columns=(
        PrinterColumn("Ready", '.status.conditions[?(@.type=="Ready")].status', description="Ready condition."),
        PrinterColumn("Phase", ".status.phase", description="Lifecycle phase."),
        PrinterColumn("Table", ".status.tableName", description="AWS table name."),
        PrinterColumn("ARN", ".status.arn", description="Table ARN.", priority=1),
        PrinterColumn("Age", ".metadata.creationTimestamp", type="date"),
    ),
)
