"""Whose master password is this: the one check before any RDS-managed master secret is read.

An UpskillDatabase's status names its cluster and master secret, but status can be written by anyone
allowed to patch it. So the cluster is read from RDS: it must carry the database's owner tag, and the
secret read is the one RDS names for that cluster, never an ARN taken from status. Used by the
``database`` source of UpskillSecrets and by the operator's own connections (probes, migrations).
"""

from __future__ import annotations

from upskill_operator.aws.rds_passwords import RdsPasswords
from upskill_operator.errors import TerminalError
from upskill_operator.models.tags import owner_of, tag_dict

__all__ = ["own_master_secret"]


def own_master_secret(rds: RdsPasswords, identifier: str, owner: str, field: str) -> str | None:
    """The master secret ARN RDS reports for cluster ``identifier`` (None: none yet), once its owner tag is
    ``owner``; Terminal, naming ``field``, otherwise. ``AwsNotFoundError`` when there is no such cluster."""
    cluster = rds.describe_cluster(identifier)
    found = owner_of(tag_dict(cluster.get("TagList")))
    if found != owner:
        raise TerminalError(
            f"{field}: the status of {owner} names cluster {identifier!r}, which is owned by {found!r}, "
            f"not {owner}; refusing to read its credentials",
            reason="ForeignOwner",
        )
    arn = (cluster.get("MasterUserSecret") or {}).get("SecretArn")
    return str(arn) if arn else None
