"""Kms.key_arn: every key reference resolves to the key ARN DynamoDB reports, once per cache period."""

from __future__ import annotations

import pytest

from upskill_operator.aws.errors import AwsNotFoundError
from upskill_operator.aws.kms import Kms, arn_scope
from upskill_operator.aws.sts import Sts

from unit.stubbed_aws import stubbed

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def metadata(arn: str = KEY_ARN) -> dict[str, object]:
    return {"KeyMetadata": {"KeyId": arn.rsplit("/", 1)[1], "Arn": arn}}


def test_alias_is_resolved_once_then_cached() -> None:
    clock = Clock()
    kms, stubber = stubbed(lambda clients: Kms(clients, cache_seconds=60, clock=clock))
    stubber.add_response("describe_key", metadata(), {"KeyId": "alias/upskill"})

    assert kms.key_arn("alias/upskill") == KEY_ARN
    clock.now += 59
    assert kms.key_arn("alias/upskill") == KEY_ARN  # no second response queued: a call would fail
    stubber.assert_no_pending_responses()


def test_cache_expires_so_a_repointed_alias_is_seen() -> None:
    clock = Clock()
    kms, stubber = stubbed(lambda clients: Kms(clients, cache_seconds=60, clock=clock))
    other = KEY_ARN.replace("1234abcd", "9999ffff")
    stubber.add_response("describe_key", metadata(), {"KeyId": "alias/upskill"})
    stubber.add_response("describe_key", metadata(other), {"KeyId": "alias/upskill"})

    assert kms.key_arn("alias/upskill") == KEY_ARN
    clock.now += 61
    assert kms.key_arn("alias/upskill") == other


def test_a_key_arn_is_described_once_so_a_missing_key_is_found() -> None:
    clock = Clock()
    kms, stubber = stubbed(lambda clients: Kms(clients, cache_seconds=60, clock=clock))
    stubber.add_response("describe_key", metadata(), {"KeyId": KEY_ARN})

    assert kms.key_arn(KEY_ARN) == KEY_ARN
    assert kms.key_arn(KEY_ARN) == KEY_ARN  # cached: no second response queued
    stubber.assert_no_pending_responses()


def test_a_missing_key_arn_is_not_found() -> None:
    kms, stubber = stubbed(Kms)
    stubber.add_client_error("describe_key", "NotFoundException", "Key is not found.", 400)
    with pytest.raises(AwsNotFoundError):
        kms.key_arn(KEY_ARN)


def test_arn_scope() -> None:
    assert arn_scope(KEY_ARN) == ("us-east-1", "123456789012")
    assert arn_scope("arn:aws:kms:eu-west-1:999999999999:alias/upskill") == ("eu-west-1", "999999999999")
    assert arn_scope("alias/upskill") is None
    assert arn_scope("1234abcd-12ab-34cd-56ef-1234567890ab") is None


def test_the_caller_account_is_looked_up_once() -> None:
    sts, stubber = stubbed(Sts)
    stubber.add_response("get_caller_identity", {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root"})
    assert sts.account_id() == "123456789012"
    assert sts.account_id() == "123456789012"
    stubber.assert_no_pending_responses()


def test_unknown_alias_is_not_found() -> None:
    kms, stubber = stubbed(Kms)
    stubber.add_client_error("describe_key", "NotFoundException", "Alias alias/nope is not found.", 400)
    with pytest.raises(AwsNotFoundError):
        kms.key_arn("alias/nope")
