"""The sandbox's AWS emulator: seeding, reset, and the environment it hands out."""

from __future__ import annotations

import boto3
import pytest

from upskill_sandbox.aws import KMS_ALIAS, SANDBOX_TAG, MotoServer, Seed, aws_env

REGION = "us-east-1"


def test_seed_creates_the_key_alias_and_a_private_vpc(moto: MotoServer, seed: Seed) -> None:
    kms = boto3.client("kms", endpoint_url=moto.url, region_name=REGION)
    ec2 = boto3.client("ec2", endpoint_url=moto.url, region_name=REGION)

    assert kms.describe_key(KeyId=KMS_ALIAS)["KeyMetadata"]["Arn"] == seed.kms_key_arn
    vpc = ec2.describe_vpcs(VpcIds=[seed.vpc_id])["Vpcs"][0]
    assert {"Key": SANDBOX_TAG, "Value": "true"} in vpc["Tags"]
    subnets = ec2.describe_subnets(SubnetIds=list(seed.subnet_ids))["Subnets"]
    assert len(subnets) == 2
    assert {s["AvailabilityZone"] for s in subnets} == {"us-east-1a", "us-east-1b"}
    assert all(s["VpcId"] == seed.vpc_id for s in subnets)
    assert all({"Key": "tier", "Value": "private"} in s["Tags"] for s in subnets)
    assert not any(s.get("MapPublicIpOnLaunch") for s in subnets)


def test_seed_twice_finds_what_is_there(moto: MotoServer, seed: Seed) -> None:
    assert moto.seed(REGION) == seed


def test_reset_forgets_everything(moto: MotoServer, seed: Seed) -> None:
    moto.reset()
    kms = boto3.client("kms", endpoint_url=moto.url, region_name=REGION)
    assert KMS_ALIAS not in {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    assert moto.seed(REGION).kms_key_arn != seed.kms_key_arn


def test_aws_env_points_boto3_at_the_emulator_with_dummy_credentials() -> None:
    env = aws_env("http://127.0.0.1:1234", "eu-west-1")
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1234"
    assert (env["AWS_REGION"], env["AWS_DEFAULT_REGION"]) == ("eu-west-1", "eu-west-1")
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "testing"


def test_a_busy_port_fails_fast_instead_of_hanging(moto: MotoServer) -> None:
    port = int(moto.url.rsplit(":", 1)[1])
    with pytest.raises(OSError, match="cannot start the AWS emulator"):
        MotoServer(port=port).start()


def test_url_needs_a_started_server() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = MotoServer().url
