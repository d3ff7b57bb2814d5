"""The two RDS calls an UpskillSecret makes: find which cluster a master secret belongs to, and rotate
a cluster's RDS-managed master password.

A ``database`` source's rotation means new credentials. With the master password managed by
RDS in Secrets Manager, RDS does it safely itself: it sets the new password on the cluster and
writes it to the master secret as the new AWSCURRENT (the old one stays AWSPREVIOUS); the
operator then rebuilds the URL from the new version. The cluster (its owner tag and master
secret) is read from RDS, never taken from an UpskillDatabase's status, which a namespace could
forge. Kept apart from the database adapters' RDS façade so the secret controller needs no more
of RDS than this.
"""

from __future__ import annotations

from typing import Any

from upskill_operator.aws.base import Facade

__all__ = ["RdsPasswords"]


class RdsPasswords(Facade):
    service = "rds"
    iam_prefix = "rds"
    operations = frozenset({"DescribeDBClusters", "ModifyDBCluster"})

    def describe_cluster(self, identifier: str) -> dict[str, Any]:
        """The ``DBCluster`` (``TagList``, ``MasterUserSecret``); raises ``AwsNotFoundError`` when there is none."""
        cluster: dict[str, Any] = self.call("DescribeDBClusters", DBClusterIdentifier=identifier)["DBClusters"][0]
        return cluster

    def rotate_master_password(self, cluster_identifier: str) -> None:
        """Ask RDS to rotate the master password it manages (ModifyDBCluster RotateMasterUserPassword)."""
        self.call(
            "ModifyDBCluster",
            DBClusterIdentifier=cluster_identifier,
            RotateMasterUserPassword=True,
            ApplyImmediately=True,
        )
