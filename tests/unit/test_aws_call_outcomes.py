"""The call histogram's ``outcome`` is what the operator saw: botocore's parse of a real HTTP answer.

Each answer is served by an attempt observer after real request serialisation and signing, and
parsed by botocore's own RDS (query protocol) parser; nothing reaches the network.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from botocore.awsrequest import AWSResponse
from prometheus_client import REGISTRY

from upskill_operator.aws.errors import AwsRecoverableError, AwsTerminalError
from upskill_operator.aws.rds_passwords import RdsPasswords
from upskill_operator.aws.session import AwsClients
from upskill_operator.config import AwsSettings

_OK = (
    b'<ModifyDBClusterResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><ModifyDBClusterResult>'
    b"<DBCluster><DBClusterIdentifier>c1</DBClusterIdentifier></DBCluster></ModifyDBClusterResult>"
    b"<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ModifyDBClusterResponse>"
)
_REFUSED = (
    b'<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type>'
    b"<Code>InvalidParameterCombination</Code><Message>no</Message></Error><RequestId>r</RequestId></ErrorResponse>"
)
_FOREIGN = b'{"__type": "InvalidRequestException", "message": "No Lambda rotation function ARN is associated."}'
"""What the bed answered when a Secrets Manager refusal escaped RDS's dispatch: JSON to a query client."""


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _answer(status: int, body: bytes | None, raised: Exception | None = None) -> Any:
    def observer(service: str, operation: str) -> AWSResponse | None:
        if raised is not None:
            raise raised
        headers = cast(Any, {"Content-Type": "text/xml"})
        return AWSResponse("https://rds.test/", status, headers, _Raw(body or b""))

    return observer


def _count(outcome: str) -> float:
    labels = {"service": "rds", "operation": "ModifyDBCluster", "outcome": outcome}
    return REGISTRY.get_sample_value("upskill_aws_api_call_duration_seconds_count", labels) or 0.0


@pytest.mark.parametrize(
    ("status", "body", "raised", "error", "outcome"),
    [
        pytest.param(200, _OK, None, None, "success", id="parsed-answer"),
        pytest.param(400, _REFUSED, None, AwsTerminalError, "client_error", id="aws-refusal"),
        pytest.param(400, _FOREIGN, None, AwsRecoverableError, "retryable_error", id="unparseable-error"),
        pytest.param(200, _FOREIGN, None, AwsRecoverableError, "retryable_error", id="unparseable-200"),
        pytest.param(200, None, RuntimeError("observer broke"), RuntimeError, "error", id="unclassified"),
    ],
)
def test_the_outcome_label_follows_what_the_call_raised(
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    body: bytes | None,
    raised: Exception | None,
    error: type[Exception] | None,
    outcome: str,
) -> None:
    for name, value in (("AWS_ACCESS_KEY_ID", "t"), ("AWS_SECRET_ACCESS_KEY", "t"), ("AWS_SESSION_TOKEN", "t")):
        monkeypatch.setenv(name, value)
    settings = AwsSettings(region="us-east-1", endpoint_url="http://127.0.0.1:9", max_attempts=1, calls_per_second={})
    rds = RdsPasswords(AwsClients(settings, attempts=[_answer(status, body, raised)]))
    before = {label: _count(label) for label in ("success", "client_error", "retryable_error", "error")}
    if error is None:
        rds.rotate_master_password("c1")
    else:
        with pytest.raises(error):
            rds.rotate_master_password("c1")
    after = {label: _count(label) for label in before}
    assert {label: after[label] - before[label] for label in before} == {
        label: 1.0 if label == outcome else 0.0 for label in before
    }
