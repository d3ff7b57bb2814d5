"""The one RDS call an UpskillSecret makes: rotate a cluster's RDS-managed master password.

A ``database`` source's rotation means new credentials. With the master password managed by
RDS in Secrets Manager, RDS does it safely itself: it sets the new password on the cluster and
writes it to the master secret as the new AWSCURRENT (the old one stays AWSPREVIOUS); the
operator then rebuilds the URL from the new version. Kept apart from the database adapters'
RDS façade so the secret controller needs no more of RDS than this.
"""

from __future__ import annotations

from upskill_operator.aws.base import Facade

__all__ = ["RdsPasswords"]


class RdsPasswords(Facade):
    service = "rds"
    iam_prefix = "rds"
    operations = frozenset({"ModifyDBCluster"})

    def rotate_master_password(self, cluster_identifier: str) -> None:
        """Ask RDS to rotate the master password it manages (ModifyDBCluster RotateMasterUserPassword)."""
        self.call(
            "ModifyDBCluster",
            DBClusterIdentifier=cluster_identifier,
            RotateMasterUserPassword=True,
            ApplyImmediately=True,
        )
