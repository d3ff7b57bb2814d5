"""IAM database authentication tokens (``generate_db_auth_token``) for probes and migrations.

A token is a SigV4-presigned ``connect`` request, signed locally with the operator's
credentials: no API call is made, so nothing is rate limited or counted here. It is valid for
15 minutes and only when the caller's role allows ``rds-db:connect`` on the DB user (or proxy
user): ``operations`` names that action so the IAM policy can be derived from the code.
The token is returned as a ``SecretStr``: it is a credential.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from upskill_operator.aws.base import Facade
from upskill_operator.aws.errors import classify

__all__ = ["RdsAuth"]


class RdsAuth(Facade):
    service = "rds"
    iam_prefix = "rds-db"
    operations = frozenset({"connect"})

    def token(self, host: str, port: int, user: str) -> SecretStr:
        """A token for ``user`` at ``host:port`` (the AWS endpoint name, never a mapped local one)."""
        try:
            value = self._client.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user, Region=self.region)
        except (BotoCoreError, ClientError) as exc:  # no credentials to sign with, typically
            raise classify(exc, self.service, "GenerateDBAuthToken") from None
        return SecretStr(str(value))
