"""Where an UpskillDatabase's data comes from at creation: a cluster snapshot, or a cluster at a point in time.

Recovery is declared, as CloudNativePG's bootstrap sources are: a new resource names its source once,
the operator checks it in AWS before anything is created, restores instead of creating empty, and the
rest of the spec applies on top. The source is immutable: it says where the data came from, not what
to do later. ``status.restoredFrom`` shows it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator

from upskill_operator.models.common import Model, StatusModel
from upskill_operator.models.rules import Cel, LocalName, Matches, cel_rules

__all__ = [
    "ManualSnapshot",
    "PointInTimeSource",
    "RestoreSpec",
    "RestoredFrom",
    "SnapshotList",
    "SnapshotRequest",
    "SnapshotSource",
    "parse_time",
]

# A DB cluster snapshot identifier (1-255 letters, digits and single hyphens, a letter first, no final
# hyphen) or its ARN; lower case, as RDS stores identifiers.
SNAPSHOT_ID = r"^[a-zA-Z]([a-zA-Z0-9]|-[a-zA-Z0-9]){0,254}$"
SNAPSHOT_ARN = r"^arn:aws[a-z-]*:rds:[a-z0-9-]+:[0-9]{12}:cluster-snapshot:[a-zA-Z]([a-zA-Z0-9]|-[a-zA-Z0-9]){0,254}$"
SnapshotRef = Annotated[
    str,
    Matches(
        f"({SNAPSHOT_ID})|({SNAPSHOT_ARN})",
        "must be a DB cluster snapshot identifier (a letter, then letters, digits and single hyphens) or its ARN",
        400,
    ),
]
SourceCluster = Annotated[
    str,
    Matches(
        r"^[a-z]([a-z0-9]|-[a-z0-9])*$",
        "must be 1-63 of a-z 0-9 -, starting with a letter, without -- or a final -",
        63,
    ),
]
RFC3339 = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$"
Time = Annotated[str, Matches(RFC3339, "must be an RFC 3339 time such as 2026-12-03T05:10:00Z", 40)]

ONE_SNAPSHOT_SOURCE = Cel(
    "has(self.identifier) != has(self.finalSnapshotOf)", "exactly one of identifier or finalSnapshotOf must be set"
)
ONE_CLUSTER_SOURCE = Cel(
    "has(self.sourceDatabase) != has(self.sourceClusterIdentifier)",
    "exactly one of sourceDatabase or sourceClusterIdentifier must be set",
)
ONE_TIME = Cel("has(self.time) != (has(self.latest) && self.latest)", "exactly one of time or latest: true must be set")
ONE_RESTORE_SOURCE = Cel(
    "has(self.fromSnapshot) != has(self.pointInTime)", "exactly one of fromSnapshot or pointInTime must be set"
)


def parse_time(text: str) -> datetime:
    """An RFC 3339 time (``Z`` or an offset) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class SnapshotSource(Model):
    """A DB cluster snapshot: named, or the newest final snapshot of a deleted UpskillDatabase of this namespace."""

    model_config = ConfigDict(json_schema_extra=cel_rules(ONE_SNAPSHOT_SOURCE))

    identifier: SnapshotRef | None = Field(None, description="DB cluster snapshot identifier or ARN.")
    final_snapshot_of: Annotated[str, LocalName("an UpskillDatabase")] | None = Field(
        None,
        description="Name of an UpskillDatabase of this namespace (usually a deleted one): its newest available "
        "final snapshot (undo a deletion with one apply).",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SnapshotSource:
        if (self.identifier is None) == (self.final_snapshot_of is None):
            raise ValueError(ONE_SNAPSHOT_SOURCE.message)
        return self


class PointInTimeSource(Model):
    """Another cluster of this namespace, as it was at a time (RestoreDBClusterToPointInTime, a full copy)."""

    model_config = ConfigDict(json_schema_extra=cel_rules(ONE_CLUSTER_SOURCE, ONE_TIME))

    source_database: Annotated[str, LocalName("an UpskillDatabase")] | None = Field(
        None, description="Name of the UpskillDatabase of this namespace whose cluster is the source."
    )
    source_cluster_identifier: SourceCluster | None = Field(
        None, description="The source DB cluster identifier (a cluster owned by this namespace)."
    )
    time: Time | None = Field(None, description="Restore to this time (RFC 3339), inside the source's window.")
    latest: bool = Field(False, description="Restore to the source's latest restorable time.")

    @field_validator("time")
    @classmethod
    def _real_time(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_time(value)
            except ValueError:
                raise ValueError(f"must be a valid RFC 3339 time (got {value})") from None
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> PointInTimeSource:
        if (self.source_database is None) == (self.source_cluster_identifier is None):
            raise ValueError(ONE_CLUSTER_SOURCE.message)
        if (self.time is None) == (not self.latest):
            raise ValueError(ONE_TIME.message)
        return self


class RestoreSpec(Model):
    """Create the cluster from existing data instead of empty. Read at creation only; immutable."""

    model_config = ConfigDict(json_schema_extra=cel_rules(ONE_RESTORE_SOURCE))

    from_snapshot: SnapshotSource | None = Field(None, description="Restore a DB cluster snapshot.")
    point_in_time: PointInTimeSource | None = Field(None, description="Restore another cluster to a point in time.")

    @model_validator(mode="after")
    def _exactly_one(self) -> RestoreSpec:
        if (self.from_snapshot is None) == (self.point_in_time is None):
            raise ValueError(ONE_RESTORE_SOURCE.message)
        return self


class RestoredFrom(StatusModel):
    """Where the cluster's data came from, as resolved before the restore."""

    snapshot: str | None = Field(None, description="The DB cluster snapshot restored.")
    source_cluster: str | None = Field(None, description="The cluster restored to a point in time.")
    time: str | None = Field(None, description="The point in time asked (RFC 3339), or 'latest'.")
    restored_at: str | None = Field(None, description="When the restored cluster was created (RFC 3339).")


SnapshotName = Annotated[
    str,
    Matches(
        r"^[a-z]([a-z0-9]|-[a-z0-9])*$",
        "must be 1-63 of a-z 0-9 -, starting with a letter, without -- or a final -",
        63,
    ),
]


class SnapshotRequest(Model):
    """An on-demand cluster snapshot, taken once: ``<cluster>-<name>`` (at most 127 of RDS's 255 characters)."""

    name: SnapshotName = Field(description="Snapshot name, e.g. before-0005; the snapshot is <cluster>-<name>.")


class ManualSnapshot(StatusModel):
    """One on-demand snapshot of the cluster, as RDS reports it."""

    name: str = Field(description="The spec.snapshots name.")
    identifier: str = Field(description="DB cluster snapshot identifier.")
    state: str | None = Field(None, description="RDS status: creating, available, failed, ...")
    percent: int | None = Field(None, description="PercentProgress.")
    created_at: str | None = Field(None, description="SnapshotCreateTime (RFC 3339).")


def _distinct(snapshots: list[SnapshotRequest]) -> list[SnapshotRequest]:
    names = [s.name for s in snapshots]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"must not repeat names (repeated: {', '.join(repeated)})")
    return snapshots


SnapshotList = Annotated[
    list[SnapshotRequest],
    AfterValidator(_distinct),
    Field(json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]}),
]
"""Distinct names (a list map keyed by name, as the API server enforces too)."""
