"""UpskillDatabase: an Aurora PostgreSQL cluster, its instances, its RDS Proxy and its network glue.

Capacity lives in :mod:`.database_capacity`, the network in :mod:`.database_network`, status in
:mod:`.database_status` and PostgreSQL naming rules in :mod:`.postgres`; this module re-exports what callers need.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from upskill_operator.models.aurora import covered_by, serverless_problem, version_problem
from upskill_operator.models.common import KindInfo, KmsKeyId, LocalReference, Model, PrinterColumn, RdsTags, immutable
from upskill_operator.models.database_capacity import (
    AUTO_PAUSE_SINCE,
    CapacitySpec,
    ProvisionedCapacity,
    ServerlessCapacity,
    supports_auto_pause,
)
from upskill_operator.models.database_network import AllowFrom, NetworkSpec, SubnetSelector
from upskill_operator.models.database_restore import PointInTimeSource, RestoreSpec, SnapshotList, SnapshotSource
from upskill_operator.models.database_status import DatabaseStatus
from upskill_operator.models.monitoring import DatabaseMonitoring
from upskill_operator.models.postgres import DatabaseName, MasterUserName
from upskill_operator.models.rules import (
    Between,
    Cel,
    LocalName,
    Matches,
    Problem,
    cel_rules,
    fail,
    raise_all,
    running,
)

__all__ = [
    "AUTO_PAUSE_SINCE",
    "KIND",
    "AllowFrom",
    "BackupSpec",
    "CapacitySpec",
    "DatabaseSpec",
    "DatabaseStatus",
    "MasterUser",
    "MigrationsSpec",
    "NetworkSpec",
    "PointInTimeSource",
    "ProbeSpec",
    "ProvisionedCapacity",
    "ProxySpec",
    "RestoreSpec",
    "ServerlessCapacity",
    "SnapshotSource",
    "SubnetSelector",
    "supports_auto_pause",
]


RoleArn = Annotated[
    str, Matches(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$", "must be an IAM role ARN", 600)
]


def _offered_version(version: str, info: ValidationInfo) -> str:
    if covered_by(version, running(info, "engineVersion")):
        return version  # runs already: a minor AWS has since retired is no reason to stop
    if (problem := version_problem(version)) is not None:
        raise ValueError(problem)
    return version


EngineVersion = Annotated[
    str,
    Matches(r"^[0-9]{1,2}\.[0-9]{1,2}$", "must be a version such as 16.4", 5),
    AfterValidator(_offered_version),
]
# RDS identifiers: a letter, then letters, digits and single hyphens, not ending with a hyphen (written
# without look-arounds, which RE2 lacks, and unambiguously, so no input makes it backtrack).
ClusterId = Annotated[
    str,
    Matches(
        r"^[a-z]([a-z0-9]|-[a-z0-9])*$",
        "must be 1-63 of a-z 0-9 -, starting with a letter, without -- or a final -",
        63,
    ),
]
BackupWindow = Annotated[
    str, Matches(r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$", "must be hh:mm-hh:mm (UTC)", 11)
]

READ_ONLY_NEEDS_PROXY = Cel("!self.readOnlyEndpoint || self.enabled", "needs enabled: true", ".readOnlyEndpoint")
IDLE_LE_MAX = Cel(
    "!has(self.maxIdleConnectionsPercent) || self.maxIdleConnectionsPercent <= self.maxConnectionsPercent",
    "must not exceed maxConnectionsPercent",
    ".maxIdleConnectionsPercent",
)
ONE_MIGRATION_SOURCE = Cel(
    "has(self.set) != has(self.configMapName)", "exactly one of set or configMapName must be set"
)
READ_ONLY_NEEDS_READERS = Cel(
    "!has(self.proxy) || !self.proxy.readOnlyEndpoint"
    " || (has(self.capacity.serverless) && self.capacity.serverless.readReplicas > 0)"
    " || (has(self.capacity.provisioned) && self.capacity.provisioned.readReplicas > 0)",
    "needs at least one reader (capacity readReplicas is 0)",
    ".proxy.readOnlyEndpoint",
)
RESTORE_FIXED = Cel("has(self.restore) == has(oldSelf.restore)", "spec.restore: immutable after creation")
"""A transition rule on spec: ``self == oldSelf`` on the field itself runs only when both sides have it."""
KMS_NEEDS_ENCRYPTION = Cel("!has(self.kmsKeyId) || self.storageEncrypted", "needs storageEncrypted: true", ".kmsKeyId")


class MasterUser(Model):
    """The master user. RDS keeps its password in Secrets Manager; the operator never sees it in logs."""

    username: MasterUserName = Field(
        "upskill_admin",
        description="Master user name (a PostgreSQL role name). Immutable.",
        json_schema_extra=immutable("spec.masterUser.username: immutable after creation"),
    )


class ProxySpec(Model):
    """An RDS Proxy in front of the cluster: pooled connections, IAM auth and TLS for apps."""

    model_config = ConfigDict(json_schema_extra=cel_rules(READ_ONLY_NEEDS_PROXY, IDLE_LE_MAX))

    enabled: bool = Field(True, description="Create the proxy (and its IAM role) and register the cluster.")
    require_tls: bool = Field(True, alias="requireTLS", description="Refuse client connections without TLS.")
    iam_auth: Literal["Required", "Disabled"] = Field("Required", description="IAM authentication of clients.")
    borrow_timeout_seconds: Annotated[int, Between(1, 3600)] = Field(
        5, description="ConnectionBorrowTimeout: how long a client waits for a pooled connection, 1-3600 s."
    )
    max_connections_percent: Annotated[int, Between(1, 100)] = Field(
        100, description="MaxConnectionsPercent of the cluster's max_connections the proxy may use, 1-100."
    )
    max_idle_connections_percent: Annotated[int, Between(0, 100)] | None = Field(
        None, description="MaxIdleConnectionsPercent, at most maxConnectionsPercent (AWS default: half of it)."
    )
    idle_client_timeout_seconds: Annotated[int, Between(1, 28800)] = Field(
        1800, description="Seconds before an idle client connection is closed, 1-28800."
    )
    read_only_endpoint: bool = Field(False, description="Add a READ_ONLY proxy endpoint (needs readers).")
    role_arn: RoleArn | None = Field(None, description="IAM role the proxy assumes; omit to have one created.")

    @model_validator(mode="after")
    def _consistent(self) -> ProxySpec:
        problems: list[Problem] = []
        if self.read_only_endpoint and not self.enabled:
            problems.append((READ_ONLY_NEEDS_PROXY.loc, READ_ONLY_NEEDS_PROXY.message))
        idle, most = self.max_idle_connections_percent, self.max_connections_percent
        if idle is not None and idle > most:
            problems.append((IDLE_LE_MAX.loc, f"{IDLE_LE_MAX.message} (got {idle} > {most})"))
        raise_all(problems)
        return self


class BackupSpec(Model):
    """Automated backups; snapshots copy the cluster's tags."""

    retention_days: Annotated[int, Between(1, 35)] = Field(7, description="Days of automated backups, 1-35.")
    preferred_window: BackupWindow | None = Field(
        None, description="Daily backup window in UTC, hh:mm-hh:mm, at least 30 minutes."
    )

    @field_validator("preferred_window")
    @classmethod
    def _long_enough(cls, window: str | None) -> str | None:
        if window is not None:
            start, end = (int(t[:2]) * 60 + int(t[3:]) for t in window.split("-"))
            minutes = (end - start) % 1440
            if minutes < 30:
                raise ValueError(f"must be at least 30 minutes long (got {minutes})")
        return window


class MigrationsSpec(LocalReference):
    """Schema migrations the operator applies in order: a built-in set or SQL files from a ConfigMap."""

    model_config = ConfigDict(json_schema_extra=cel_rules(ONE_MIGRATION_SOURCE))
    referent = "a ConfigMap"

    migration_set: Literal["betterauth", "course"] | None = Field(None, alias="set", description="A built-in set.")
    config_map_name: Annotated[str, LocalName("a ConfigMap")] | None = Field(
        None, description="ConfigMap of *.sql files, applied by name order."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> MigrationsSpec:
        if (self.migration_set is None) == (self.config_map_name is None):
            raise ValueError(ONE_MIGRATION_SOURCE.message)
        return self


class ProbeSpec(Model):
    """A latency probe (SELECT 1 through the main endpoint), reported in status.latency."""

    interval_seconds: Annotated[int, Between(5, 3600)] = Field(30, description="Seconds between probes, 5-3600.")
    slo_milliseconds: Annotated[int, Between(1, 60000)] = Field(100, description="Latency objective for p99, in ms.")


class DatabaseSpec(Model):
    """Desired state of an Aurora PostgreSQL cluster with its instances, RDS Proxy and network."""

    model_config = ConfigDict(json_schema_extra=cel_rules(READ_ONLY_NEEDS_READERS, KMS_NEEDS_ENCRYPTION, RESTORE_FIXED))

    engine_version: EngineVersion = Field(description="Aurora PostgreSQL version, e.g. 16.4. Never downgraded.")
    allow_major_version_upgrade: bool = Field(False, description="Allow engineVersion to move to a new major.")
    database_name: DatabaseName = Field(
        description="Database created in the cluster (a PostgreSQL identifier). Immutable.",
        json_schema_extra=immutable("spec.databaseName: immutable after creation"),
    )
    cluster_identifier: ClusterId | None = Field(
        None,
        description="AWS cluster identifier. Defaults to one derived from namespace and name. Immutable.",
        json_schema_extra=immutable("spec.clusterIdentifier: immutable after creation"),
    )
    capacity: CapacitySpec = Field(description="Serverless v2 or provisioned instances.")
    network: NetworkSpec = Field(description="Subnets and security groups.")
    iam_authentication: bool = Field(True, description="IAM database authentication on the cluster.")
    storage_encrypted: bool = Field(
        True,
        description="Encrypt storage at rest. Immutable.",
        json_schema_extra=immutable("spec.storageEncrypted: immutable after creation"),
    )
    kms_key_id: KmsKeyId | None = Field(
        None,
        description="KMS key for storage encryption; omit for the AWS-managed key. Immutable.",
        json_schema_extra=immutable("spec.kmsKeyId: immutable after creation"),
    )
    master_user: MasterUser = Field(MasterUser(), description="Master user; its password is managed by RDS.")
    proxy: ProxySpec = Field(ProxySpec(), description="RDS Proxy settings.")
    backup: BackupSpec = Field(BackupSpec(), description="Backup retention and window.")
    deletion_protection: bool = Field(
        True, description="AWS deletion protection. Must be false before a Delete policy may delete the cluster."
    )
    deletion_policy: Literal["Snapshot", "Retain", "Delete"] = Field(
        "Snapshot", description="On deletion: Snapshot (default) takes a final snapshot; Retain leaves all in AWS."
    )
    adopt: bool = Field(
        False,
        description="Adopt an existing, untagged cluster with the derived identifier (or one an administrator "
        "granted the namespace in UPSKILL_ADOPT_SCOPES).",
    )
    tags: RdsTags = Field(default_factory=dict, description="Extra AWS tags (the upskill.io/ prefix is ours).")
    migrations: MigrationsSpec | None = Field(None, description="Schema migrations to apply; omit for none.")
    probe: ProbeSpec | None = Field(None, description="Latency probe; omit to disable.")
    snapshots: SnapshotList = Field(
        default_factory=list,
        max_length=50,
        description="On-demand cluster snapshots, each taken once as <cluster>-<name> and listed in status."
        " Removing an entry never deletes its snapshot; deletionPolicy Delete deletes them with the database.",
    )
    restore: RestoreSpec | None = Field(
        None,
        description="Create the cluster from a snapshot or another cluster's point in time instead of empty "
        "(checked in AWS first). Read at creation only. Immutable.",
        json_schema_extra=immutable("spec.restore: immutable after creation"),
    )
    monitoring: DatabaseMonitoring | None = Field(
        None, description="CloudWatch alarms for the cluster and proxy; omit for none, {} for the defaults."
    )

    @field_validator("capacity")
    @classmethod
    def _auto_pause_version(cls, capacity: CapacitySpec, info: ValidationInfo) -> CapacitySpec:
        version = info.data.get("engine_version")
        if capacity.serverless and version and (problem := serverless_problem(version)) is not None:
            fail((("serverless",), problem))
        if capacity.serverless and capacity.serverless.min_acu == 0 and version and not supports_auto_pause(version):
            since = ", ".join(f"{major}.{minor}" for major, minor in AUTO_PAUSE_SINCE.items())
            fail((("serverless", "minACU"), f"0 (auto-pause) needs engineVersion {since} or later (got {version})"))
        return capacity

    @model_validator(mode="after")
    def _cross_fields(self) -> DatabaseSpec:
        problems: list[Problem] = []
        if self.proxy.read_only_endpoint and self.capacity.read_replicas == 0:
            problems.append((READ_ONLY_NEEDS_READERS.loc, READ_ONLY_NEEDS_READERS.message))
        if self.kms_key_id is not None and not self.storage_encrypted:
            problems.append((KMS_NEEDS_ENCRYPTION.loc, KMS_NEEDS_ENCRYPTION.message))
        raise_all(problems)
        return self

    def update_errors(self, old: DatabaseSpec) -> list[str]:
        """Changes AWS cannot make, as ``path: message`` lines relative to spec."""
        new_v, old_v = (tuple(int(p) for p in s.engine_version.split(".")) for s in (self, old))
        if new_v < old_v:
            return [f"engineVersion: cannot downgrade (from {old.engine_version} to {self.engine_version})"]
        if new_v[0] > old_v[0] and not self.allow_major_version_upgrade:
            return [f"engineVersion: a major upgrade ({old_v[0]} to {new_v[0]}) needs allowMajorVersionUpgrade: true"]
        return []


KIND = KindInfo(
    kind="UpskillDatabase",
    plural="upskilldatabases",
    singular="upskilldatabase",
    short_names=("udb",),
    spec=DatabaseSpec,
    status=DatabaseStatus,
    description="An Aurora PostgreSQL cluster with its instances, RDS Proxy and network, in one resource.",
    columns=(
        PrinterColumn("Ready", '.status.conditions[?(@.type=="Ready")].status', description="Ready condition."),
        PrinterColumn("Phase", ".status.phase", description="Lifecycle phase."),
        PrinterColumn("Endpoint", ".status.endpoints.proxy", description="Proxy read/write endpoint."),
        PrinterColumn("Writer", ".status.endpoints.writer", description="Cluster writer endpoint.", priority=1),
        PrinterColumn("Age", ".metadata.creationTimestamp", type="date"),
    ),
)
