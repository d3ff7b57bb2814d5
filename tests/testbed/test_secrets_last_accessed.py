"""Secrets Manager's LastAccessedDate in the bed, as AWS reports it: absent until a value is retrieved.

The adversarial tests prove that no secret value of another namespace was read by this field, so the
bed must be able to fail them: a GetSecretValue, and only a successful one, must make it appear.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from upskill_sandbox.aws import MotoServer

REGION = "us-east-1"


@pytest.fixture(scope="module")
def sm() -> Iterator[Any]:
    with MotoServer() as aws:
        yield aws.client("secretsmanager", REGION)


def test_absent_until_the_value_is_read_then_the_day_of_the_read(sm: Any) -> None:
    arn = sm.create_secret(Name="team/api-key", SecretString="v1")["ARN"]
    sm.put_secret_value(SecretId=arn, SecretString="v2")
    sm.tag_resource(SecretId=arn, Tags=[{"Key": "k", "Value": "v"}])
    sm.list_secret_version_ids(SecretId=arn)
    assert "LastAccessedDate" not in sm.describe_secret(SecretId=arn)  # writes and metadata reads are no access

    with pytest.raises(ClientError):
        sm.get_secret_value(SecretId=arn, VersionId="0" * 32)
    assert "LastAccessedDate" not in sm.describe_secret(SecretId=arn)  # a refused read is no access

    assert sm.get_secret_value(SecretId="team/api-key")["SecretString"] == "v2"
    accessed = sm.describe_secret(SecretId=arn)["LastAccessedDate"]
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert accessed == today  # AWS keeps the date only, truncated to midnight


def test_each_secret_keeps_its_own(sm: Any) -> None:
    read, unread = sm.create_secret(Name="a/read", SecretString="x")["ARN"], sm.create_secret(Name="a/unread")["ARN"]
    sm.get_secret_value(SecretId=read)
    assert "LastAccessedDate" in sm.describe_secret(SecretId=read)
    assert "LastAccessedDate" not in sm.describe_secret(SecretId=unread)
