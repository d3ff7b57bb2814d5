"""Our RDS extension of moto 5.2.5: AWS's behaviour where moto's differs, served over HTTP.

This module holds the cluster-side fixes; the proxy side is :mod:`.rds_proxy_extension` and the
transitional states :mod:`.rds_pending`. Everything here is test bed: the operator never imports it.

What is emulated, exactly (each line is AWS's behaviour that moto lacks):

- ``CreateDBCluster`` / ``CreateDBSubnetGroup`` on an existing name answer ``DBClusterAlreadyExistsFault``
  / ``DBSubnetGroupAlreadyExists`` (moto silently replaced the object). ``ModifyDBSubnetGroup`` keeps
  the group (moto dropped it from its index, so it vanished) and answers ``DBSubnetGroupNotFoundFault``
  for a missing one (moto: HTTP 500). A subnet group needs subnets
  that exist (``InvalidSubnet``) in at least two availability zones (``DBSubnetGroupDoesNotCoverEnoughAZs``).
- The RDS-managed master secret holds ``{"username": <MasterUsername>, "password": <random>}``
  (moto stored a fixed ``admin`` / ``P@55w0rd!``).
- ``ModifyDBCluster`` / ``DeleteDBCluster`` on a missing cluster answer ``DBClusterNotFoundFault``
  (moto: HTTP 500); ``ModifyDBCluster`` applies ``EnableIAMDatabaseAuthentication`` (moto ignored it)
  and refuses a new major ``EngineVersion`` without ``AllowMajorVersionUpgrade``
  (``InvalidParameterCombination``). ``RotateMasterUserPassword`` is RDS's own rotation, checked
  before anything is applied (:mod:`.rds_rotation`), and a request moto refuses leaves the cluster
  in place (moto took it out of its index first, so a refused modify removed the cluster).
- ``DeleteDBCluster`` needs ``FinalDBSnapshotIdentifier`` unless ``SkipFinalSnapshot`` is true
  (``InvalidParameterCombination``), as AWS does; moto deleted without a snapshot.
- ``DeleteDBSubnetGroup`` while a cluster uses the group answers ``InvalidDBSubnetGroupStateFault``.
- With ``RdsEmulation.pending_describes`` > 0, clusters, instances, proxies, proxy endpoints and
  proxy targets stay ``creating`` / ``modifying`` / ``deleting`` / ``REGISTERING`` for that many
  describes, and writes to them meanwhile answer ``InvalidDBClusterStateFault`` and its siblings.
- ``CreateDBCluster`` / ``ModifyDBCluster`` with an ``EngineVersion`` Aurora PostgreSQL does not offer, and
  ``CreateDBInstance`` / ``ModifyDBInstance`` with a ``DBInstanceClass`` it does not offer (or ``db.serverless``
  below the first Serverless v2 minor), answer ``InvalidParameterCombination`` (moto accepted any string).
  The offer is the table of :mod:`upskill_operator.models.aurora`.
- Final snapshots that take time (the cluster stays ``deleting`` until its snapshot is available) are
  :mod:`.rds_snapshots`, whose class is the one the server uses.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends
from moto.rds.exceptions import DBClusterNotFoundError, RDSClientError

from upskill_operator.models.aurora import SERVERLESS_CLASS, instance_class_problem, serverless_problem, version_problem
from upskill_sandbox import rds_rotation as rotation
from upskill_sandbox.rds_pending import LOCK, held_state, hold, release, tick
from upskill_sandbox.rds_proxy_extension import ProxyExtension

__all__ = ["ClusterExtension", "master_password", "replace_secret_value"]

_PASSWORD_ALPHABET = string.ascii_letters + string.digits + "!#$%&()*+,-.:;<=>?[]^_{|}~"
"""What RDS uses for generated master passwords: printable ASCII without / @ " and space."""


def master_password(length: int = 32) -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def _major(version: str | None) -> int | None:
    head = (version or "").split(".")[0]
    return int(head) if head.isdigit() else None


_ENGINE = "aurora-postgresql"


def _check_version(engine: str | None, version: str | None) -> None:
    if engine in (None, _ENGINE) and version and version_problem(version) is not None:
        raise RDSClientError("InvalidParameterCombination", f"Cannot find version {version} for {_ENGINE}")


def _check_class(instance_class: str | None, version: str | None) -> None:
    """RDS's answer to a class that is not orderable for the cluster's engine version."""
    if not instance_class or not version:
        return
    if instance_class == SERVERLESS_CLASS:
        refused = serverless_problem(version) is not None
    else:
        refused = instance_class_problem(instance_class) is not None
    if refused:
        raise RDSClientError(
            "InvalidParameterCombination",
            "RDS does not support creating a DB instance with the following combination: "
            f"DBInstanceClass={instance_class}, Engine={_ENGINE}, EngineVersion={version}, "
            "LicenseModel=postgresql-license.",
        )


class ClusterExtension(ProxyExtension):
    """Fixes for subnet groups, clusters and instances, and their transitional states."""

    def _cluster(self, identifier: str | None) -> Any:
        cluster = self.backend.clusters.get(identifier or "")
        if cluster is None:
            raise DBClusterNotFoundError(identifier or "")
        return cluster

    def _show_cluster(self, identifier: str, state: str | None) -> None:
        cluster = self.backend.clusters.get(identifier)
        if cluster is not None:
            cluster.status = state or "available"

    def _show_instance(self, identifier: str, state: str | None) -> None:
        instance = self.backend.databases.get(identifier)
        if instance is not None:
            instance.status = state or "available"

    # Subnet groups ------------------------------------------------------------------------------

    def create_db_subnet_group(self) -> ActionResult:
        with LOCK:
            name = self.params.get("DBSubnetGroupName") or ""
            if name in self.backend.subnet_groups:
                raise RDSClientError("DBSubnetGroupAlreadyExists", f"DB subnet group {name!r} already exists.")
            ec2 = ec2_backends[self.current_account][self.region]
            zones = {s.id: s.availability_zone for s in ec2.describe_subnets()}
            wanted = list(self.params.get("SubnetIds") or [])
            missing = [s for s in wanted if s not in zones]
            if missing:
                raise RDSClientError("InvalidSubnet", f"Some of the subnets do not exist: {', '.join(missing)}.")
            if len({zones[s] for s in wanted}) < 2:
                raise RDSClientError(
                    "DBSubnetGroupDoesNotCoverEnoughAZs",
                    "The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. "
                    "Current AZ coverage: 1. Add subnets to cover at least 2 AZs.",
                )
            return super().create_db_subnet_group()

    def modify_db_subnet_group(self) -> ActionResult:
        with LOCK:
            name = self.params.get("DBSubnetGroupName") or ""
            group = self.backend.subnet_groups.get(name)
            if group is None:
                raise RDSClientError("DBSubnetGroupNotFoundFault", f"DB subnet group {name!r} not found.")
            result = super().modify_db_subnet_group()
            self.backend.subnet_groups[name] = group  # moto drops the group from its index here
            return result

    def delete_db_subnet_group(self) -> ActionResult:
        with LOCK:
            name = (self.params.get("DBSubnetGroupName") or "").lower()
            users = [c.db_cluster_identifier for c in self.backend.clusters.values() if c.db_subnet_group_name == name]
            if users:
                raise RDSClientError(
                    "InvalidDBSubnetGroupStateFault", f"Cannot delete the subnet group {name}: used by {users[0]}."
                )
            return super().delete_db_subnet_group()

    # Clusters -----------------------------------------------------------------------------------

    def create_db_cluster(self) -> ActionResult:
        with LOCK:
            identifier = self.params.get("DBClusterIdentifier") or ""
            if identifier in self.backend.clusters:
                raise RDSClientError("DBClusterAlreadyExistsFault", f"DB Cluster {identifier} already exists")
            _check_version(self.params.get("Engine"), self.params.get("EngineVersion"))
            result = super().create_db_cluster()
            cluster = self._cluster(identifier)
            if getattr(cluster, "manage_master_user_password", False):
                _set_master_secret(cluster)
            if self._pending():
                cluster.status = "creating"
                hold(self.backend, "cluster", identifier, "creating", self._pending())
            return result

    def describe_db_clusters(self) -> ActionResult:
        with LOCK:
            identifier = self.params.get("DBClusterIdentifier")
            tick(self.backend, "cluster", [identifier] if identifier else None, self._show_cluster)
            return super().describe_db_clusters()

    def modify_db_cluster(self) -> ActionResult:
        with LOCK:
            params = self.params
            cluster = self._cluster(params.get("DBClusterIdentifier"))
            state = held_state(self.backend, "cluster", cluster.db_cluster_identifier)
            if state:
                raise RDSClientError(
                    "InvalidDBClusterStateFault", f"DB cluster {cluster.db_cluster_identifier} is {state}."
                )
            new, old = _major(params.get("EngineVersion")), _major(cluster.engine_version)
            if new is not None and old is not None and new != old and not params.get("AllowMajorVersionUpgrade"):
                raise RDSClientError(
                    "InvalidParameterCombination",
                    "The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version.",
                )
            _check_version(cluster.engine, params.get("EngineVersion"))
            rotate = bool(params.get(rotation.FLAG))
            if rotate:
                rotation.check_rotation(cluster, params)
                del params[rotation.FLAG]  # RDS's own rotation, below; moto's would go through RotateSecret
            try:
                result = super().modify_db_cluster()
            except Exception:
                # moto takes the cluster out of its index before its own checks: a refusal must change nothing
                self.backend.clusters.setdefault(cluster.db_cluster_identifier, cluster)
                raise
            if rotate:
                rotation.rotate_master_secret(cluster, master_password())
            if params.get("EnableIAMDatabaseAuthentication") is not None:
                cluster.iam_auth = bool(params["EnableIAMDatabaseAuthentication"])
            if self._pending():
                hold(self.backend, "cluster", cluster.db_cluster_identifier, "modifying", self._pending())
                cluster.status = "modifying"
            return result

    def delete_db_cluster(self) -> ActionResult:
        with LOCK:
            cluster = self._cluster(self.params.get("DBClusterIdentifier"))
            if not self.params.get("SkipFinalSnapshot") and not self.params.get("FinalDBSnapshotIdentifier"):
                raise RDSClientError(
                    "InvalidParameterCombination",
                    "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.",
                )
            result = super().delete_db_cluster()
            release(self.backend, "cluster", cluster.db_cluster_identifier)
            return result

    # Instances ----------------------------------------------------------------------------------

    def _cluster_version(self, identifier: str | None) -> str | None:
        cluster = self.backend.clusters.get(identifier or "")
        return getattr(cluster, "engine_version", None) if cluster is not None else None

    def create_db_instance(self) -> ActionResult:
        with LOCK:
            params = self.params
            _check_class(params.get("DBInstanceClass"), self._cluster_version(params.get("DBClusterIdentifier")))
            result = super().create_db_instance()
            identifier = self.params.get("DBInstanceIdentifier") or ""
            if self._pending():
                self.backend.databases[identifier].status = "creating"
                hold(self.backend, "instance", identifier, "creating", self._pending())
            return result

    def describe_db_instances(self) -> ActionResult:
        with LOCK:
            identifier = self.params.get("DBInstanceIdentifier")
            clusters = {
                value
                for f in self.params.get("Filters") or []
                if f["Name"] in ("db-cluster-id", "db-cluster-identifier")
                for value in f["Values"]
            }
            covered = [identifier] if identifier else None
            if covered is None and clusters:
                covered = [
                    i.db_instance_identifier
                    for i in self.backend.databases.values()
                    if getattr(i, "db_cluster_identifier", None) in clusters
                ]
            tick(self.backend, "instance", covered, self._show_instance)
            return super().describe_db_instances()

    def modify_db_instance(self) -> ActionResult:
        with LOCK:
            identifier = self.params.get("DBInstanceIdentifier") or ""
            state = held_state(self.backend, "instance", identifier)
            if state:
                raise RDSClientError("InvalidDBInstanceState", f"DB instance {identifier} is {state}.")
            instance = self.backend.databases.get(identifier)
            version = self._cluster_version(getattr(instance, "db_cluster_identifier", None))
            _check_class(self.params.get("DBInstanceClass"), version)
            result = super().modify_db_instance()
            if self._pending():
                self.backend.databases[identifier].status = "modifying"
                hold(self.backend, "instance", identifier, "modifying", self._pending())
            return result

    def delete_db_instance(self) -> ActionResult:
        with LOCK:
            result = super().delete_db_instance()
            release(self.backend, "instance", self.params.get("DBInstanceIdentifier") or "")
            return result


def _set_master_secret(cluster: Any) -> None:
    """What RDS stores: the cluster's master user name and a generated password."""
    value = {"username": cluster.master_username, "password": master_password()}
    replace_secret_value(cluster.master_user_secret.secret, value)


def replace_secret_value(secret: Any, value: dict[str, str]) -> None:
    """Replace the current value of a moto secret in place (no new version: RDS wrote this one)."""
    text = json.dumps(value)
    secret.secret_string = text
    for version in secret.versions.values():
        if "secret_string" in version:
            version["secret_string"] = text
