"""The Secrets Manager façade on botocore Stubber: requests as AWS expects them, values never in errors."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import SecretStr

from upskill_operator.aws.errors import AwsNotFoundError, AwsRecoverableError, AwsTerminalError
from upskill_operator.aws.secretsmanager import PasswordPolicy, SecretsManager

from unit.stubbed_aws import stubbed

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:upskill/team/app-AbCdEf"
TOKEN = "0b5e6f2a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


def test_create_sends_the_value_token_key_description_and_tags_in_one_call() -> None:
    sm, stubber = stubbed(SecretsManager)
    stubber.add_response(
        "create_secret",
        {"ARN": ARN, "Name": "upskill/team/app", "VersionId": TOKEN},
        {
            "Name": "upskill/team/app",
            "ClientRequestToken": TOKEN,
            "SecretString": "s3cret",
            "KmsKeyId": "alias/upskill",
            "Description": "d",
            "Tags": [{"Key": "a", "Value": "1"}, {"Key": "upskill.io/owner", "Value": "team/app"}],
        },
    )
    sm.create_secret(
        "upskill/team/app",
        value=SecretStr("s3cret"),
        token=TOKEN,
        kms_key_id="alias/upskill",
        description="d",
        tags={"upskill.io/owner": "team/app", "a": "1"},
    )
    stubber.assert_no_pending_responses()


def test_put_carries_the_callers_token() -> None:
    sm, stubber = stubbed(SecretsManager)
    stubber.add_response(
        "put_secret_value",
        {"ARN": ARN, "VersionId": TOKEN, "VersionStages": ["AWSCURRENT"]},
        {"SecretId": ARN, "ClientRequestToken": TOKEN, "SecretString": "v2"},
    )
    sm.put_secret_value(ARN, value=SecretStr("v2"), token=TOKEN)
    stubber.assert_no_pending_responses()


def test_error_messages_are_dropped_because_they_may_echo_the_value() -> None:
    sm, stubber = stubbed(SecretsManager)
    stubber.add_client_error(
        "put_secret_value", "ResourceExistsException", "version exists with SecretString hunter2", 400
    )
    with pytest.raises(AwsTerminalError) as caught:
        sm.put_secret_value(ARN, value=SecretStr("hunter2"), token=TOKEN)
    assert caught.value.reason == "ResourceExistsException"
    assert "hunter2" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_get_secret_value_returns_a_masked_value_and_the_version() -> None:
    sm, stubber = stubbed(SecretsManager)
    created = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    stubber.add_response(
        "get_secret_value",
        {
            "ARN": ARN,
            "Name": "n",
            "VersionId": TOKEN,
            "SecretString": "hunter2",
            "VersionStages": ["AWSCURRENT"],
            "CreatedDate": created,
        },
        {"SecretId": ARN, "VersionStage": "AWSCURRENT"},
    )
    found = sm.get_secret_value(ARN, stage="AWSCURRENT")
    assert found.value.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(found)
    assert (found.version_id, found.stages, found.created) == (TOKEN, ("AWSCURRENT",), created)


def test_missing_secret_is_not_found() -> None:
    sm, stubber = stubbed(SecretsManager)
    stubber.add_client_error("describe_secret", "ResourceNotFoundException", "no such secret", 400)
    with pytest.raises(AwsNotFoundError):
        sm.describe_secret("upskill/team/app")


def test_version_listing_follows_next_token_and_includes_deprecated() -> None:
    sm, stubber = stubbed(SecretsManager)
    page = {"SecretId": ARN, "IncludeDeprecated": True, "MaxResults": 100}
    stubber.add_response("list_secret_version_ids", {"Versions": [{"VersionId": "a" * 32}], "NextToken": "t"}, page)
    stubber.add_response("list_secret_version_ids", {"Versions": [{"VersionId": "b" * 32}]}, {**page, "NextToken": "t"})
    found = sm.list_secret_version_ids(ARN, include_deprecated=True)
    assert [v["VersionId"] for v in found] == ["a" * 32, "b" * 32]


def test_generator_parameters() -> None:
    sm, stubber = stubbed(SecretsManager)
    stubber.add_response(
        "get_random_password",
        {"RandomPassword": "x" * 16},
        {
            "PasswordLength": 16,
            "ExcludeCharacters": "\"'",
            "ExcludeNumbers": False,
            "ExcludePunctuation": True,
            "ExcludeUppercase": False,
            "ExcludeLowercase": False,
            "IncludeSpace": False,
            "RequireEachIncludedType": True,
        },
    )
    value = sm.get_random_password(PasswordPolicy(length=16, exclude_characters="\"'", exclude_punctuation=True))
    assert value.get_secret_value() == "x" * 16


def test_deletion_with_a_window_or_forced() -> None:
    sm, stubber = stubbed(SecretsManager)
    stubber.add_response("delete_secret", {}, {"SecretId": ARN, "RecoveryWindowInDays": 9})
    stubber.add_response("delete_secret", {}, {"SecretId": ARN, "ForceDeleteWithoutRecovery": True})
    stubber.add_response("restore_secret", {}, {"SecretId": ARN})
    sm.delete_secret(ARN, recovery_window_days=9)
    sm.delete_secret(ARN, force=True)
    sm.restore_secret(ARN)
    stubber.assert_no_pending_responses()


def test_rotation_configuration_and_cancel() -> None:
    sm, stubber = stubbed(SecretsManager)
    lam = "arn:aws:lambda:us-east-1:123456789012:function:rotate"
    stubber.add_response(
        "rotate_secret",
        {},
        {
            "SecretId": ARN,
            "RotationLambdaARN": lam,
            "RotationRules": {"ScheduleExpression": "rate(10 days)"},
            "RotateImmediately": False,
        },
    )
    stubber.add_response(
        "rotate_secret",
        {},
        {
            "SecretId": ARN,
            "RotationLambdaARN": lam,
            "RotationRules": {"AutomaticallyAfterDays": 7},
            "RotateImmediately": True,
            "ClientRequestToken": TOKEN,
        },
    )
    stubber.add_response("cancel_rotate_secret", {}, {"SecretId": ARN})
    sm.rotate_secret(ARN, lambda_arn=lam, rules={"ScheduleExpression": "rate(10 days)"}, rotate_immediately=False)
    sm.rotate_secret(ARN, lambda_arn=lam, rules={"AutomaticallyAfterDays": 7}, rotate_immediately=True, token=TOKEN)
    sm.cancel_rotate_secret(ARN)
    stubber.assert_no_pending_responses()


def test_throttling_is_recoverable() -> None:
    sm, stubber = stubbed(SecretsManager)
    stubber.add_client_error("describe_secret", "ThrottlingException", "slow down", 400)
    with pytest.raises(AwsRecoverableError):
        sm.describe_secret(ARN)


def test_stage_move_and_tags() -> None:
    sm, stubber = stubbed(SecretsManager)
    stubber.add_response(
        "update_secret_version_stage",
        {},
        {"SecretId": ARN, "VersionStage": "AWSCURRENT", "MoveToVersionId": TOKEN, "RemoveFromVersionId": "o" * 32},
    )
    stubber.add_response("tag_resource", {}, {"SecretId": ARN, "Tags": [{"Key": "k", "Value": "v"}]})
    stubber.add_response("untag_resource", {}, {"SecretId": ARN, "TagKeys": ["a", "b"]})
    stubber.add_response("update_secret", {}, {"SecretId": ARN, "KmsKeyId": "alias/k"})
    sm.update_secret_version_stage(ARN, stage="AWSCURRENT", move_to=TOKEN, remove_from="o" * 32)
    sm.tag_resource(ARN, {"k": "v"})
    sm.tag_resource(ARN, {})  # nothing to do: no call
    sm.untag_resource(ARN, {"b", "a"})
    sm.update_secret(ARN, kms_key_id="alias/k")
    stubber.assert_no_pending_responses()
