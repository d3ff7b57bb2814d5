"""spec_key_arn: a key ARN of another region or account, or one that does not exist, is Terminal before any write."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from upskill_operator.adapters.shared.kms_key import spec_key_arn
from upskill_operator.aws.kms import Kms
from upskill_operator.errors import TerminalError

from unit.stubbed_aws import stubbed

OURS = "123456789012"
KEY_ARN = f"arn:aws:kms:us-east-1:{OURS}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def kms_of_account() -> tuple[Kms, Stubber]:
    return stubbed(lambda clients: Kms(clients, account=lambda: OURS))


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            KEY_ARN.replace("us-east-1", "eu-west-1"),
            "spec.kmsKeyId: the ARN is in region eu-west-1; the operator's resources are in us-east-1",
        ),
        (
            f"arn:aws:kms:eu-west-1:{OURS}:alias/upskill",
            "spec.kmsKeyId: the ARN is in region eu-west-1; the operator's resources are in us-east-1",
        ),
        (
            KEY_ARN.replace(OURS, "999999999999"),
            f"spec.kmsKeyId: the ARN belongs to account 999999999999, not to this account ({OURS})",
        ),
    ],
    ids=["key-other-region", "alias-other-region", "key-other-account"],
)
def test_a_key_elsewhere_is_refused_without_a_kms_call(key: str, message: str) -> None:
    kms, stubber = kms_of_account()
    with pytest.raises(TerminalError) as caught:
        spec_key_arn(kms, "spec.kmsKeyId", key)
    assert str(caught.value) == message
    assert caught.value.reason == "KmsKeyElsewhere"
    stubber.assert_no_pending_responses()


def test_a_missing_key_arn_of_our_account_is_refused() -> None:
    kms, stubber = kms_of_account()
    stubber.add_client_error("describe_key", "NotFoundException", "Key is not found.", 400)
    with pytest.raises(TerminalError) as caught:
        spec_key_arn(kms, "spec.encryption.kmsKeyId", KEY_ARN)
    assert str(caught.value) == f"spec.encryption.kmsKeyId: no KMS key or alias {KEY_ARN!r} in region us-east-1"
    assert caught.value.reason == "KmsKeyNotFound"


def test_an_existing_key_arn_of_our_account_is_used() -> None:
    kms, stubber = kms_of_account()
    answer = {"KeyMetadata": {"KeyId": KEY_ARN.rsplit("/", 1)[1], "Arn": KEY_ARN}}
    stubber.add_response("describe_key", answer, {"KeyId": KEY_ARN})
    assert spec_key_arn(kms, "spec.kmsKeyId", KEY_ARN) == KEY_ARN
