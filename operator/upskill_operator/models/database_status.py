"""Observed state of an UpskillDatabase: endpoints, AWS identifiers, members, capacity and probes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from upskill_operator.models.common import ResourceStatus, StatusModel
from upskill_operator.models.database_restore import ManualSnapshot, RestoredFrom
from upskill_operator.models.monitoring import AlarmStatus

__all__ = ["CapacityStatus", "DatabaseStatus", "Endpoints", "InstanceStatus", "LatencyStatus", "MigrationsStatus"]


class Endpoints(StatusModel):
    """Host names apps connect to (port in status.port)."""

    writer: str | None = Field(None, description="Cluster writer endpoint.")
    reader: str | None = Field(None, description="Cluster reader endpoint.")
    proxy: str | None = Field(None, description="RDS Proxy read/write endpoint.")
    proxy_read_only: str | None = Field(None, description="RDS Proxy read-only endpoint, when readers exist.")


class InstanceStatus(StatusModel):
    """One DB instance of the cluster."""

    identifier: str = Field(description="DB instance identifier.")
    role: Literal["writer", "reader"] = Field(description="writer or reader.")
    instance_class: str | None = Field(None, description="Instance class (db.serverless for Serverless v2).")
    status: str | None = Field(None, description="RDS DBInstanceStatus (available, creating, modifying, ...).")
    arn: str | None = Field(None, description="DB instance ARN.")


class CapacityStatus(StatusModel):
    """Capacity settings AWS reports now."""

    min_acu: float | None = Field(None, alias="minACU", description="Serverless v2 minimum ACUs.")
    max_acu: float | None = Field(None, alias="maxACU", description="Serverless v2 maximum ACUs.")
    auto_pause_seconds: int | None = Field(None, description="Serverless v2 SecondsUntilAutoPause.")
    instance_class: str | None = Field(None, description="Provisioned instance class.")
    read_replicas: int | None = Field(None, description="Reader instances.")


class MigrationsStatus(StatusModel):
    """Schema migrations applied so far."""

    applied: int = Field(0, description="Number of migrations applied.")
    latest: str | None = Field(None, description="Name of the latest migration applied.")


class LatencyStatus(StatusModel):
    """Latency seen by the probe."""

    p50_ms: float | None = Field(None, description="Median probe latency in milliseconds.")
    p99_ms: float | None = Field(None, description="99th percentile probe latency in milliseconds.")
    last_probe_time: str | None = Field(None, description="When the last probe ran (RFC 3339).")


class DatabaseStatus(ResourceStatus):
    """Observed state of the cluster, its instances and its proxy."""

    endpoints: Endpoints | None = Field(None, description="Writer, reader and proxy endpoints.")
    port: int | None = Field(None, description="PostgreSQL port of every endpoint.")
    engine_version: str | None = Field(None, description="Engine version AWS reports (minor upgrades included).")
    cluster_arn: str | None = Field(None, description="DB cluster ARN.")
    cluster_identifier: str | None = Field(None, description="DB cluster identifier.")
    subnet_group_name: str | None = Field(None, description="DB subnet group name.")
    subnet_group_arn: str | None = Field(None, description="DB subnet group ARN.")
    vpc_id: str | None = Field(None, description="VPC of the subnets.")
    subnet_ids: list[str] = Field(default_factory=list, description="Subnets of the DB subnet group (and proxy).")
    security_group_id: str | None = Field(None, description="Security group created by the operator, if any.")
    security_group_ids: list[str] = Field(default_factory=list, description="Security groups of the cluster.")
    proxy_arn: str | None = Field(None, description="RDS Proxy ARN.")
    proxy_name: str | None = Field(None, description="RDS Proxy name.")
    proxy_endpoint_name: str | None = Field(None, description="Name of the READ_ONLY proxy endpoint.")
    proxy_endpoint_arn: str | None = Field(None, description="ARN of the READ_ONLY proxy endpoint.")
    role_arn: str | None = Field(None, description="IAM role the proxy assumes.")
    proxy_user_secret_arns: list[str] = Field(
        default_factory=list,
        description="Secrets of application users the RDS Proxy accepts (UpskillSecrets naming a user on a"
        " proxy endpoint).",
    )
    instances: list[InstanceStatus] = Field(default_factory=list, description="Cluster members and their roles.")
    capacity: CapacityStatus | None = Field(None, description="Current capacity settings.")
    master_user_secret_arn: str | None = Field(None, description="ARN of the RDS-managed master user secret.")
    migrations: MigrationsStatus | None = Field(None, description="Migrations applied.")
    latency: LatencyStatus | None = Field(None, description="Probe latency.")
    alarms: list[AlarmStatus] | None = Field(
        None, description="The CloudWatch alarms of spec.monitoring, with their states (AlarmsOK sums them up)."
    )
    managed_tag_keys: list[str] = Field(default_factory=list, description="Tag keys the operator set last time.")
    snapshots: list[ManualSnapshot] = Field(default_factory=list, description="On-demand snapshots (spec.snapshots).")
    restored_from: RestoredFrom | None = Field(None, description="Where the cluster's data came from (spec.restore).")
