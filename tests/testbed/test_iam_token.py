"""The emulated endpoints' IAM auth token check: boto3's tokens pass, each kind of wrong token is refused."""

from __future__ import annotations

import datetime
from typing import Any

import boto3
import pytest

from upskill_sandbox.iam_token import TokenRefusedError, verify_token

KEYS = {"AKIDFRONTS": "fronts-secret-key"}
HOST = "127.0.0.1:5433"


def token(host: str = "127.0.0.1", port: int = 5433, user: str = "alice", region: str = "eu-west-1", **kw: Any) -> str:
    key = kw.pop("key", "AKIDFRONTS")
    secret = kw.pop("secret", KEYS.get(key, "other"))
    client = boto3.client("rds", region_name=region, aws_access_key_id=key, aws_secret_access_key=secret, **kw)
    return str(client.generate_db_auth_token(host, port, user))


def tampered(value: str) -> str:
    return value[:-1] + ("0" if value[-1] != "0" else "1")


def check(value: str, **kw: Any) -> None:
    args: dict[str, Any] = {"hosts": [HOST], "user": "alice", "region": "eu-west-1", "keys": KEYS, **kw}
    verify_token(value, **args)


def test_a_boto3_token_passes_with_and_without_a_session_token() -> None:
    check(token())
    check(token(aws_session_token="session-token"))


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (lambda: token(key="AKIDUNKNOWN"), "access key is not known"),
        (lambda: token(secret="wrong"), "signature does not match"),
        (lambda: token(port=5434), "another host or port"),
        (lambda: token(host="localhost"), "another host or port"),
        (lambda: token(user="bob"), "another user"),
        (lambda: token(region="us-east-1"), "another region"),
        (lambda: token().replace("rds-db", "rds"), "another service"),
        (lambda: token().replace("X-Amz-Expires=900", "X-Amz-Expires=901"), "X-Amz-Expires"),
        (lambda: tampered(token()), "signature does not match"),
        (lambda: "not a token", "not an IAM auth token"),
    ],
)
def test_a_wrong_token_is_refused(value: Any, why: str) -> None:
    made = value()
    with pytest.raises(TokenRefusedError, match=why) as refused:
        check(made)
    assert made not in str(refused.value)


def test_an_expired_or_future_token_is_refused() -> None:
    made = token()
    now = datetime.datetime.now(datetime.UTC)
    with pytest.raises(TokenRefusedError, match="expired"):
        check(made, now=now + datetime.timedelta(seconds=901))
    with pytest.raises(TokenRefusedError, match="future"):
        check(made, now=now - datetime.timedelta(minutes=6))
    check(made, now=now + datetime.timedelta(seconds=890))
