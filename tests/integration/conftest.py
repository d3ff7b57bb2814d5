"""Integration fixtures: a real moto server over HTTP, and the operator's AWS layer pointed at it.

Nothing is patched in-process: boto3 reaches moto through ``endpoint_url`` over a
socket, exactly as it reaches AWS. Dummy credentials come from ``aws_env`` and
are set only for the session, then restored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.kms import Kms
from upskill_operator.aws.session import AttemptObserver, AwsClients
from upskill_operator.config import AwsSettings
from upskill_sandbox.aws import MotoServer, Seed, aws_env

REGION = "us-east-1"
READ_PREFIXES = ("Describe", "List", "Get")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server for the session on a free port, with dummy credentials in the environment."""
    with MotoServer() as server, pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            env.delenv(name, raising=False)
        for key, value in aws_env(server.url, REGION).items():
            env.setenv(key, value)
        yield server


@pytest.fixture
def moto(moto_server: MotoServer) -> MotoServer:
    """The session's server, emptied before the test, so every test starts from a blank account."""
    moto_server.reset()
    return moto_server


@pytest.fixture
def seed(moto: MotoServer) -> Seed:
    """The sandbox's KMS key (``alias/upskill``) and VPC, in a freshly reset account."""
    return moto.seed(REGION)


@pytest.fixture
def kms_key(moto: MotoServer) -> str:
    """Only the ``alias/upskill`` key (the VPC costs ~0.3 s in moto); its ARN."""
    return moto.seed_kms(REGION)


@pytest.fixture
def observers() -> list[AttemptObserver]:
    """The attempt observers of the test's ``aws_clients`` (``calls`` joins them)."""
    return []


@pytest.fixture
def aws_clients(moto: MotoServer, observers: list[AttemptObserver]) -> AwsClients:
    """The operator's client cache, as the operator builds it, aimed at the emulator."""
    return AwsClients(AwsSettings(endpoint_url=moto.url, region=REGION, max_attempts=2), attempts=observers)


@pytest.fixture
def dynamodb(aws_clients: AwsClients) -> DynamoDB:
    return DynamoDB(aws_clients)


@pytest.fixture
def kms(aws_clients: AwsClients) -> Kms:
    return Kms(aws_clients)


@pytest.fixture
def boto_dynamodb(moto: MotoServer) -> Any:
    """A plain boto3 client, separate from the operator's, to check and to change AWS out of band."""
    return boto3.client("dynamodb", endpoint_url=moto.url, region_name=REGION)


@dataclass
class CallCounter:
    """(service, operation) of every HTTP attempt botocore makes, retries included."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, service: str, operation: str) -> None:
        self.calls.append((service, operation))

    def reads(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[1].startswith(READ_PREFIXES)]

    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if not c[1].startswith(READ_PREFIXES)]

    def clear(self) -> None:
        self.calls.clear()


@pytest.fixture
def calls(observers: list[AttemptObserver]) -> Iterator[CallCounter]:
    """Counts the AWS calls of ``aws_clients`` at the botocore layer; removed again at teardown."""
    counter = CallCounter()
    observers.append(counter)
    try:
        yield counter
    finally:
        observers.remove(counter)
