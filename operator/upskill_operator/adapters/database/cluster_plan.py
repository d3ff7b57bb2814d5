"""Desired versus observed Aurora cluster: normalisation, conflicts, the wait and one ModifyDBCluster.

:func:`plan_cluster` is pure. AWS defaults are normalised before comparing, so nothing AWS does
on its own looks like drift:

- an engine version AWS moved forward within the major (auto minor upgrades) is not drift; a
  lower minor is upgraded in place, a higher major only with ``allowMajorVersionUpgrade``, and a
  lower major is a conflict (AWS cannot downgrade);
- ``SecondsUntilAutoPause`` matters only with a minimum of 0 ACU (AWS's default is 300);
- a backup window the spec leaves out is AWS's choice (reported as late-initialised);
- the KMS key is compared only when the spec names one (as an ARN), the capacity of a
  provisioned cluster not at all (instances carry it).

Every in-place change goes into ONE ``ModifyDBCluster`` (with ``ApplyImmediately``), after which
the cluster shows ``modifying`` and the engine waits.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.aws.rds import ENGINE
from upskill_operator.models.database import DatabaseSpec
from upskill_operator.models.tags import tag_changes, tag_dict, tag_list

__all__ = [
    "DEFAULT_AUTO_PAUSE",
    "ClusterPlan",
    "ClusterState",
    "ObservedCluster",
    "Scaling",
    "create_request",
    "desired_cluster",
    "observed_cluster",
    "plan_cluster",
    "version",
]

DEFAULT_AUTO_PAUSE = 300
"""AWS's SecondsUntilAutoPause when a 0 ACU minimum is set without one."""


@dataclass(frozen=True)
class Scaling:
    min_acu: float
    max_acu: float
    auto_pause: int | None = None
    """Only meaningful with ``min_acu == 0``."""

    def request(self) -> dict[str, Any]:
        out: dict[str, Any] = {"MinCapacity": self.min_acu, "MaxCapacity": self.max_acu}
        if self.min_acu == 0:
            out["SecondsUntilAutoPause"] = self.auto_pause or DEFAULT_AUTO_PAUSE
        return out

    def same(self, other: Scaling | None) -> bool:
        if other is None or (self.min_acu, self.max_acu) != (other.min_acu, other.max_acu):
            return False
        pause = (self.auto_pause or DEFAULT_AUTO_PAUSE, other.auto_pause or DEFAULT_AUTO_PAUSE)
        return self.min_acu != 0 or pause[0] == pause[1]


@dataclass(frozen=True)
class ClusterState:
    """Everything the operator manages on a cluster, normalised."""

    engine_version: str
    database_name: str | None
    master_username: str
    subnet_group: str
    storage_encrypted: bool = True
    kms_key: str | None = None
    iam_auth: bool = True
    backup_retention: int = 7
    backup_window: str | None = None
    copy_tags: bool = True
    deletion_protection: bool = True
    scaling: Scaling | None = None
    security_group_ids: frozenset[str] = frozenset()
    managed_password: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ObservedCluster(ClusterState):
    """A cluster as AWS reported it, with what status and the next steps need."""

    identifier: str = ""
    arn: str = ""
    engine: str = ENGINE
    status: str = "available"
    pending_modified: tuple[str, ...] = ()
    endpoint: str | None = None
    reader_endpoint: str | None = None
    port: int | None = None
    secret_arn: str | None = None
    members: tuple[tuple[str, bool], ...] = ()
    """(instance identifier, is writer) per member."""


@dataclass(frozen=True)
class ClusterPlan:
    diff: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    pending: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    """ModifyDBCluster arguments (without the identifier and ApplyImmediately)."""
    tags_to_set: dict[str, str] = field(default_factory=dict)
    tags_to_remove: tuple[str, ...] = ()
    late_initialized: tuple[str, ...] = ()


def version(text: str | None) -> tuple[int, int]:
    """``16.4`` (or ``16.4.2``, ``16``) -> (16, 4); unparseable parts count as 0."""
    parts = [*(int(p) if p.isdigit() else 0 for p in (text or "0").split(".")[:2]), 0, 0]
    return parts[0], parts[1]


def desired_cluster(
    spec: DatabaseSpec,
    *,
    subnet_group: str,
    security_group_ids: Collection[str],
    kms_key_arn: str | None,
    tags: Mapping[str, str],
) -> ClusterState:
    serverless = spec.capacity.serverless
    return ClusterState(
        engine_version=spec.engine_version,
        database_name=spec.database_name,
        master_username=spec.master_user.username,
        subnet_group=subnet_group,
        storage_encrypted=spec.storage_encrypted,
        kms_key=kms_key_arn,
        iam_auth=spec.iam_authentication,
        backup_retention=spec.backup.retention_days,
        backup_window=spec.backup.preferred_window,
        deletion_protection=spec.deletion_protection,
        scaling=Scaling(serverless.min_acu, serverless.max_acu, serverless.auto_pause_seconds) if serverless else None,
        security_group_ids=frozenset(security_group_ids),
        tags=dict(tags),
    )


def observed_cluster(raw: Mapping[str, Any]) -> ObservedCluster:
    scaling = raw.get("ServerlessV2ScalingConfiguration") or {}
    secret = raw.get("MasterUserSecret") or {}
    return ObservedCluster(
        engine_version=str(raw.get("EngineVersion") or ""),
        database_name=raw.get("DatabaseName"),
        master_username=str(raw.get("MasterUsername") or ""),
        subnet_group=str(raw.get("DBSubnetGroup") or ""),
        storage_encrypted=bool(raw.get("StorageEncrypted")),
        kms_key=raw.get("KmsKeyId"),
        iam_auth=bool(raw.get("IAMDatabaseAuthenticationEnabled")),
        backup_retention=int(raw.get("BackupRetentionPeriod") or 1),
        backup_window=raw.get("PreferredBackupWindow"),
        copy_tags=bool(raw.get("CopyTagsToSnapshot")),
        deletion_protection=bool(raw.get("DeletionProtection")),
        scaling=(
            Scaling(float(scaling["MinCapacity"]), float(scaling["MaxCapacity"]), scaling.get("SecondsUntilAutoPause"))
            if "MinCapacity" in scaling and "MaxCapacity" in scaling
            else None
        ),
        security_group_ids=frozenset(g["VpcSecurityGroupId"] for g in raw.get("VpcSecurityGroups") or ()),
        managed_password=bool(secret.get("SecretArn")),
        tags=tag_dict(raw.get("TagList")),
        identifier=str(raw.get("DBClusterIdentifier") or ""),
        arn=str(raw.get("DBClusterArn") or ""),
        engine=str(raw.get("Engine") or ""),
        status=str(raw.get("Status") or "available"),
        pending_modified=tuple(sorted((raw.get("PendingModifiedValues") or {}).keys())),
        endpoint=raw.get("Endpoint"),
        reader_endpoint=raw.get("ReaderEndpoint"),
        port=raw.get("Port"),
        secret_arn=secret.get("SecretArn"),
        members=tuple(
            (m["DBInstanceIdentifier"], bool(m.get("IsClusterWriter"))) for m in raw.get("DBClusterMembers") or ()
        ),
    )


def _conflicts(want: ClusterState, have: ObservedCluster, allow_major: bool) -> list[str]:
    found: list[str] = []
    if have.engine != ENGINE:
        found.append(f"the cluster runs {have.engine}; the engine cannot change (only {ENGINE} is managed)")
    for path, wanted, actual in (
        ("spec.databaseName", want.database_name, have.database_name),
        ("spec.masterUser.username", want.master_username, have.master_username),
        ("spec.storageEncrypted", want.storage_encrypted, have.storage_encrypted),
        ("DB subnet group", want.subnet_group, have.subnet_group),
    ):
        if wanted != actual:
            found.append(f"{path}: immutable after creation (AWS has {actual}, spec asks {wanted})")
    if want.kms_key is not None and want.kms_key != have.kms_key:
        found.append(f"spec.kmsKeyId: immutable after creation (AWS has {have.kms_key}, spec asks {want.kms_key})")
    (want_major, _), (have_major, _) = version(want.engine_version), version(have.engine_version)
    if want_major < have_major:
        found.append(f"spec.engineVersion: cannot downgrade (AWS runs {have.engine_version})")
    elif want_major > have_major and not allow_major:
        found.append(
            f"spec.engineVersion: a major upgrade ({have_major} to {want_major}) needs allowMajorVersionUpgrade: true"
        )
    return found


def _changes(want: ClusterState, have: ObservedCluster, allow_major: bool) -> tuple[list[str], dict[str, Any]]:
    diff: list[str] = []
    changes: dict[str, Any] = {}
    wanted, actual = version(want.engine_version), version(have.engine_version)
    if wanted > actual and (wanted[0] == actual[0] or allow_major):
        diff.append("spec.engineVersion")
        changes["EngineVersion"] = want.engine_version
        if wanted[0] > actual[0]:
            changes["AllowMajorVersionUpgrade"] = True
    if want.scaling is not None and not want.scaling.same(have.scaling):
        diff.append("spec.capacity.serverless")
        changes["ServerlessV2ScalingConfiguration"] = want.scaling.request()
    simple = (
        ("spec.iamAuthentication", "EnableIAMDatabaseAuthentication", want.iam_auth, have.iam_auth),
        ("spec.backup.retentionDays", "BackupRetentionPeriod", want.backup_retention, have.backup_retention),
        ("copyTagsToSnapshot", "CopyTagsToSnapshot", want.copy_tags, have.copy_tags),
        ("spec.deletionProtection", "DeletionProtection", want.deletion_protection, have.deletion_protection),
    )
    for path, key, wanted_value, actual_value in simple:
        if wanted_value != actual_value:
            diff.append(path)
            changes[key] = wanted_value
    if want.backup_window is not None and want.backup_window != have.backup_window:
        diff.append("spec.backup.preferredWindow")
        changes["PreferredBackupWindow"] = want.backup_window
    if want.security_group_ids and want.security_group_ids != have.security_group_ids:
        diff.append("spec.network (security groups)")
        changes["VpcSecurityGroupIds"] = sorted(want.security_group_ids)
    if not have.managed_password:
        diff.append("masterUser (password managed by RDS)")
        changes["ManageMasterUserPassword"] = True
        if want.kms_key:
            changes["MasterUserSecretKmsKeyId"] = want.kms_key
    return diff, changes


def plan_cluster(
    want: ClusterState, have: ObservedCluster, managed_before: Collection[str], *, allow_major: bool
) -> ClusterPlan:
    pending = None
    if have.status != "available":
        pending = f"cluster is {have.status}"
    elif have.pending_modified:
        pending = f"cluster has pending modifications ({', '.join(have.pending_modified)})"
    diff, changes = _changes(want, have, allow_major)
    to_set, to_remove = tag_changes(want.tags, have.tags, managed_before)
    if to_set or to_remove:
        diff.append("tags")
    return ClusterPlan(
        diff=tuple(diff),
        conflicts=tuple(_conflicts(want, have, allow_major)),
        pending=pending,
        changes=changes,
        tags_to_set=to_set,
        tags_to_remove=to_remove,
        late_initialized=("spec.backup.preferredWindow",) if want.backup_window is None else (),
    )


def create_request(want: ClusterState) -> dict[str, Any]:
    """CreateDBCluster arguments besides the identifier and engine: everything in one call, tags included."""
    request: dict[str, Any] = {
        "EngineVersion": want.engine_version,
        "DatabaseName": want.database_name,
        "MasterUsername": want.master_username,
        "ManageMasterUserPassword": True,
        "DBSubnetGroupName": want.subnet_group,
        "VpcSecurityGroupIds": sorted(want.security_group_ids),
        "Port": 5432,
        "StorageEncrypted": want.storage_encrypted,
        "EnableIAMDatabaseAuthentication": want.iam_auth,
        "BackupRetentionPeriod": want.backup_retention,
        "CopyTagsToSnapshot": want.copy_tags,
        "DeletionProtection": want.deletion_protection,
        "Tags": tag_list(want.tags),
    }
    if want.kms_key:
        request["KmsKeyId"] = want.kms_key
        request["MasterUserSecretKmsKeyId"] = want.kms_key
    if want.backup_window:
        request["PreferredBackupWindow"] = want.backup_window
    if want.scaling is not None:
        request["ServerlessV2ScalingConfiguration"] = want.scaling.request()
    return request
