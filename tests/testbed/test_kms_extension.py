"""The KMS extension of the moto server, through boto3 over HTTP: an ARN is looked up where it points."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from upskill_sandbox.aws import MotoServer

REGION = "us-east-1"


@pytest.fixture(scope="module")
def kms() -> Iterator[Any]:
    with MotoServer() as aws:
        yield boto3.client(
            "kms", endpoint_url=aws.url, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
        )


def test_our_key_is_described_by_id_arn_and_alias(kms: Any) -> None:
    key = kms.create_key(Description="ours")["KeyMetadata"]
    kms.create_alias(AliasName="alias/ours", TargetKeyId=key["KeyId"])
    alias_arn = key["Arn"].replace(f"key/{key['KeyId']}", "alias/ours")
    for ref in (key["KeyId"], key["Arn"], "alias/ours", alias_arn):
        assert kms.describe_key(KeyId=ref)["KeyMetadata"]["Arn"] == key["Arn"]


@pytest.mark.parametrize(
    "elsewhere",
    [
        lambda arn, account: arn.replace(account, "999999999999"),
        lambda arn, account: arn.replace(REGION, "eu-west-1"),
    ],
    ids=["other-account", "other-region"],
)
def test_an_arn_of_another_account_or_region_is_not_our_key(kms: Any, elsewhere: Any) -> None:
    key = kms.create_key(Description="ours")["KeyMetadata"]
    with pytest.raises(ClientError) as missing:
        kms.describe_key(KeyId=elsewhere(key["Arn"], key["AWSAccountId"]))  # plain moto: our key
    assert missing.value.response["Error"]["Code"] == "NotFoundException"
