"""The cached dispatch routes every request to the backend moto's own dispatch picks.

Requests are the ones botocore really sends (signed, with their headers and bodies), captured
before they leave the client and replayed as WSGI environs into both dispatchers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from werkzeug.test import EnvironBuilder

from upskill_sandbox.moto_routing import CachedDispatcher

_CALLS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("dynamodb", "dynamodb", lambda c: c.describe_table(TableName="t")),
    (
        "dynamodb",
        "dynamodb",
        lambda c: c.update_time_to_live(TableName="t", TimeToLiveSpecification={"Enabled": True, "AttributeName": "x"}),
    ),
    ("dynamodb", "dynamodb", lambda c: c.list_tables()),
    ("dynamodbstreams", "dynamodbstreams", lambda c: c.list_streams()),
    ("rds", "rds", lambda c: c.describe_db_clusters()),
    ("rds", "rds", lambda c: c.describe_db_proxy_endpoints()),
    ("secretsmanager", "secretsmanager", lambda c: c.get_secret_value(SecretId="s")),
    ("secretsmanager", "secretsmanager", lambda c: c.list_secrets()),
    ("iam", "iam", lambda c: c.get_role(RoleName="r")),
    ("iam", "iam", lambda c: c.list_policies()),
    ("ec2", "ec2", lambda c: c.describe_vpcs()),
    ("ec2", "ec2", lambda c: c.describe_security_groups(GroupIds=["sg-1"])),
    ("kms", "kms", lambda c: c.describe_key(KeyId="alias/upskill")),
    ("kms", "kms", lambda c: c.list_aliases()),
    ("cloudwatch", "cloudwatch", lambda c: c.describe_alarms(AlarmNamePrefix="a")),
    (
        "cloudwatch",
        "cloudwatch",
        lambda c: c.put_metric_alarm(
            AlarmName="a",
            EvaluationPeriods=1,
            ComparisonOperator="GreaterThanThreshold",
            Threshold=1.0,
            MetricName="m",
            Namespace="n",
            Period=60,
            Statistic="Sum",
        ),
    ),
    ("sts", "sts", lambda c: c.get_caller_identity()),
    ("sts", "sts", lambda c: c.assume_role(RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="bench")),
]


class _CapturedError(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def _raise(request: Any, **_: Any) -> None:
    raise _CapturedError(request)


@functools.cache
def _session(region: str) -> boto3.session.Session:
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)


@functools.cache
def _client(service: str, region: str) -> Any:
    client = _session(region).client(service, endpoint_url="http://127.0.0.1:5000")  # type: ignore[call-overload]
    client.meta.events.register("before-send", _raise)
    return client


def _environ(service: str, region: str, call: Callable[[Any], Any]) -> dict[str, Any]:
    """The WSGI environ of the request ``call`` makes, as a server receives it."""
    client = _client(service, region)
    with pytest.raises(_CapturedError) as captured:
        call(client)
    request = captured.value.request
    path, _, query = request.url.partition("127.0.0.1:5000")[2].partition("?")
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    builder = EnvironBuilder(path=path or "/", query_string=query, method=request.method, headers=headers, data=body)
    environ: dict[str, Any] = builder.get_environ()
    return environ


def _requests() -> list[tuple[str, dict[str, Any]]]:
    """Each call in two regions, plus moto's own API: (expected backend, environ)."""
    sample = [
        (backend, _environ(service, region, call))
        for region in ("us-east-1", "eu-west-1")
        for service, backend, call in _CALLS
    ]
    reset = EnvironBuilder(path="/moto-api/reset", method="POST").get_environ()
    return [*sample, ("moto_api", reset)]


def test_cached_dispatch_routes_as_moto_does() -> None:
    plain, cached = DomainDispatcherApplication(lambda s: s), CachedDispatcher(lambda s: s)
    routed = []
    for _ in range(2):  # the second pass is answered from the cache
        for expected, environ in _requests():
            before, after = plain.get_application(dict(environ)), cached.get_application(dict(environ))
            routed.append((expected, before, after))
    assert [(e, e) for e, _, _ in routed] == [(b, a) for _, b, a in routed]


def test_unknown_hosts_are_not_remembered() -> None:
    cached = CachedDispatcher(lambda s: s)
    assert cached.get_backend_for_host("nothing.example") is None
    assert cached.get_backend_for_host(None) is None
    assert cached.get_backend_for_host("dynamodb.us-east-1.amazonaws.com") == "dynamodb"
    assert cached.get_backend_for_host("dynamodb.us-east-1.amazonaws.com") == "dynamodb"
