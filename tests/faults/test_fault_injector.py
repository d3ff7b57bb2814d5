"""The fault injector against the moto server: real serialisation, botocore's own retries, our classification."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.errors import AwsNotFoundError, AwsRecoverableError
from upskill_operator.aws.session import AttemptObserver, AwsClients
from upskill_operator.config import AwsSettings
from upskill_sandbox.aws import MotoServer, aws_env
from upskill_sandbox.faults import FaultInjector


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with MotoServer() as server, pytest.MonkeyPatch.context() as env:
        for key, value in aws_env(server.url, "us-east-1").items():
            env.setenv(key, value)
        yield server.url


def _facade(url: str, attempts: int, observer: AttemptObserver) -> DynamoDB:
    settings = AwsSettings(endpoint_url=url, max_attempts=attempts, calls_per_second={})
    return DynamoDB(AwsClients(settings, attempts=[observer]))


@pytest.mark.parametrize("kind", FaultInjector.KINDS)
def test_each_fault_kind_is_retried_by_botocore_then_the_real_answer_arrives(moto_url: str, kind: str) -> None:
    injector = FaultInjector(1.0, kinds=[kind])
    seen: list[str] = []

    def first_attempt_only(service: str, operation: str) -> object:
        seen.append(operation)
        return injector(service, operation) if len(seen) == 1 else None

    with pytest.raises(AwsNotFoundError):  # the emulator's real answer, once the fault was retried away
        _facade(moto_url, 3, first_attempt_only).call("DescribeTable", TableName="missing-table")
    assert injector.injected[kind] == 1
    assert seen == ["DescribeTable", "DescribeTable"]


@pytest.mark.parametrize("kind", ["throttle", "503", "reset"])
def test_persistent_faults_become_recoverable_errors(moto_url: str, kind: str) -> None:
    injector = FaultInjector(1.0, kinds=[kind], services=["dynamodb"])
    with pytest.raises(AwsRecoverableError):
        _facade(moto_url, 2, injector).call("DescribeTable", TableName="t")
    assert injector.attempts[("dynamodb", "DescribeTable")] == 2  # max_attempts honoured, no hand-rolled retries


def test_throttle_carries_the_service_code(moto_url: str) -> None:
    injector = FaultInjector(1.0, kinds=["throttle"], services=["dynamodb"])
    with pytest.raises(AwsRecoverableError) as caught:
        _facade(moto_url, 1, injector).call("DescribeTable", TableName="t")
    assert caught.value.reason == "ThrottlingException"


def test_rate_is_respected_and_seeded() -> None:
    first, second = FaultInjector(0.2, seed=7), FaultInjector(0.2, seed=7)
    for injector in (first, second):
        for _ in range(2000):
            with contextlib.suppress(ConnectionClosedError, ReadTimeoutError):  # raised kinds count too
                injector("dynamodb", "DescribeTable")
    assert first.injected == second.injected
    assert 330 < sum(first.injected.values()) < 470


@pytest.mark.parametrize(
    ("service", "method", "params", "code"),
    [
        ("dynamodb", "describe_table", {"TableName": "t"}, "ThrottlingException"),
        ("secretsmanager", "describe_secret", {"SecretId": "s"}, "ThrottlingException"),
        ("kms", "describe_key", {"KeyId": "alias/none"}, "ThrottlingException"),
        ("rds", "describe_db_clusters", {}, "Throttling"),
        ("ec2", "describe_vpcs", {}, "RequestLimitExceeded"),
        ("iam", "list_roles", {}, "Throttling"),
        ("cloudwatch", "describe_alarms", {}, "Throttling"),
    ],
)
def test_throttling_comes_in_each_service_s_own_error_format(
    moto_url: str, service: str, method: str, params: dict[str, str], code: str
) -> None:
    """Observers get botocore's service ids (``secrets-manager``): a JSON service answered in XML
    would parse as a bare HTTP 400, which botocore does not retry and we would call terminal."""
    injector = FaultInjector(1.0, kinds=["throttle"])
    settings = AwsSettings(endpoint_url=moto_url, max_attempts=1, calls_per_second={})
    client = AwsClients(settings, attempts=[injector]).client(service)
    with pytest.raises(ClientError) as caught:
        getattr(client, method)(**params)
    assert caught.value.response["Error"]["Code"] == code
