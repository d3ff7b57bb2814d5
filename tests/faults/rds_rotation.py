"""RDS's side of a master password rotation, played by the test bed (moto's breaks the secret).

Emulated, exactly: the operator's ``ModifyDBCluster`` attempt (in a scenario whose database is
otherwise steady, that is ``RotateMasterUserPassword``) is answered with a success without
reaching moto, and, as RDS does, shortly after (:data:`DELAY`, in the background) the cluster's
RDS-managed master secret gets a new version with a new password (written with a plain boto3
client, which the operator's observers do not see).
moto instead rotates the secret through Secrets Manager's RotateSecret, which leaves AWSCURRENT on
an empty version (see ``testbed-notes.md``).

The observer goes after the crash switch in the operator's attempt observers: a kill at this step still
lets RDS rotate, as the request reached AWS.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from typing import Any, cast

from botocore.awsrequest import AWSResponse

from faults.inventory import Clients

__all__ = ["DELAY", "RdsRotation"]

DELAY = 1.5
"""Seconds between the request and RDS's new password (AWS takes seconds to minutes). The operator
counts the rotation as arrived when the master secret's current version changes."""

_OK = (
    b'<ModifyDBClusterResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><ModifyDBClusterResult>'
    b"<DBCluster><DBClusterIdentifier>emulated</DBClusterIdentifier></DBCluster></ModifyDBClusterResult>"
    b"<ResponseMetadata><RequestId>emulated</RequestId></ResponseMetadata></ModifyDBClusterResponse>"
)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class RdsRotation:
    """An attempt observer answering ModifyDBCluster of ``cluster`` as RDS's master password rotation."""

    def __init__(self, clients: Clients, cluster: str) -> None:
        self.clients = clients
        self.cluster = cluster
        self.rotations = 0
        self._pending: list[threading.Timer] = []

    def master_secret(self) -> str:
        found = self.clients.rds.describe_db_clusters(DBClusterIdentifier=self.cluster)["DBClusters"][0]
        return str(found["MasterUserSecret"]["SecretArn"])

    def settle(self) -> None:
        """Wait for the rotations already asked for."""
        for timer in list(self._pending):
            timer.join(10)

    def versions(self) -> int:
        self.settle()
        listed = self.clients.sm.list_secret_version_ids(SecretId=self.master_secret(), IncludeDeprecated=True)
        return len(listed["Versions"])

    def __call__(self, service: str, operation: str) -> AWSResponse | None:
        if (service, operation) != ("rds", "ModifyDBCluster"):
            return None
        timer = threading.Timer(DELAY, self._rotate)
        self._pending.append(timer)
        timer.start()
        headers = cast(Any, {"Content-Type": "text/xml"})
        return AWSResponse("https://rds.emulated/", 200, headers, _Raw(_OK))

    def _rotate(self) -> None:
        arn = self.master_secret()
        value = json.loads(self.clients.sm.get_secret_value(SecretId=arn)["SecretString"])
        value["password"] = secrets.token_urlsafe(24)
        self.clients.sm.put_secret_value(SecretId=arn, SecretString=json.dumps(value))
        self.rotations += 1
