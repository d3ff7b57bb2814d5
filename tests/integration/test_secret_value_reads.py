"""GetSecretValue only for a new AWSCURRENT version: DescribeSecret says whether it moved (moto over HTTP)."""

from __future__ import annotations

from typing import Any

import boto3

from upskill_operator.adapters.secret.secrets_manager import SecretsManagerAdapter
from upskill_operator.adapters.secret.state import observed_secret
from upskill_operator.aws.kms import Kms
from upskill_operator.aws.rds_passwords import RdsPasswords
from upskill_operator.aws.secretsmanager import SecretsManager
from upskill_operator.aws.session import AwsClients
from upskill_sandbox.aws import MotoServer

from integration.conftest import REGION, CallCounter

GET = ("secrets-manager", "GetSecretValue")


def test_the_value_is_read_again_only_when_awscurrent_moves(
    moto: MotoServer, aws_clients: AwsClients, kms: Kms, calls: CallCounter
) -> None:
    boto: Any = boto3.client("secretsmanager", endpoint_url=moto.url, region_name=REGION)
    arn = boto.create_secret(Name="upskill/team/token", SecretString="first")["ARN"]
    secrets = SecretsManager(aws_clients)
    adapter = SecretsManagerAdapter(secrets, kms, RdsPasswords(aws_clients), "upskill", value_seconds=60)

    def current() -> str:
        found = adapter._current(observed_secret(secrets.describe_secret(arn)))
        assert found is not None
        return found.value.get_secret_value()

    assert current() == "first"
    assert current() == "first"
    assert calls.calls.count(GET) == 1

    boto.put_secret_value(SecretId=arn, SecretString="second")  # a new version becomes AWSCURRENT
    assert current() == "second"
    assert current() == "second"
    assert calls.calls.count(GET) == 2


def test_without_memory_every_observe_reads_the_value(
    moto: MotoServer, aws_clients: AwsClients, kms: Kms, calls: CallCounter
) -> None:
    boto: Any = boto3.client("secretsmanager", endpoint_url=moto.url, region_name=REGION)
    arn = boto.create_secret(Name="upskill/team/other", SecretString="v")["ARN"]
    secrets = SecretsManager(aws_clients)
    adapter = SecretsManagerAdapter(secrets, kms, RdsPasswords(aws_clients), "upskill")
    for _ in range(2):
        adapter._current(observed_secret(secrets.describe_secret(arn)))
    assert calls.calls.count(GET) == 2
