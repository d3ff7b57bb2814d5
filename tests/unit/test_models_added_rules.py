"""Rules added with the bad-input corpus (tests/data/invalid): what they still accept, and what they refuse."""

from __future__ import annotations

import pytest

from upskill_operator.models.schedule import parse_schedule
from upskill_operator.models.validation import validate_spec

TABLE = {"keys": {"partition": {"name": "pk", "type": "S"}}}
DB = {
    "engineVersion": "16.4",
    "databaseName": "app",
    "capacity": {"serverless": {"minACU": 0.5, "maxACU": 4}},
    "network": {"subnetIds": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]},
}
KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(
    "key",
    [
        KEY,
        "mrk-1234abcd12ab34cd56ef1234567890ab",
        f"arn:aws:kms:us-east-2:111122223333:key/{KEY}",
        "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        "alias/upskill",
        "alias/aws/secretsmanager",
        "arn:aws:kms:us-east-2:111122223333:alias/team_a-key",
    ],
)
def test_every_kms_key_form_aws_accepts_is_accepted(key: str) -> None:
    assert validate_spec("UpskillTable", {**TABLE, "encryption": {"kmsKeyId": key}}) == []
    assert validate_spec("UpskillSecret", {"source": {"generate": {}}, "kmsKeyId": key}) == []


@pytest.mark.parametrize("key", ["", "upskill", "alias/", "alias/a b", f"{KEY}\n", "arn:aws:kms:us-east-2:1:key/x"])
def test_other_kms_key_text_is_refused(key: str) -> None:
    (line,) = validate_spec("UpskillDatabase", {**DB, "kmsKeyId": key})
    assert line.startswith("spec.kmsKeyId: must be a KMS key id")


@pytest.mark.parametrize(("identifier", "ok"), [("a", True), ("a-b-c9", True), ("a--b", False), ("a-", False)])
def test_cluster_identifiers_follow_rds(identifier: str, ok: bool) -> None:
    assert (validate_spec("UpskillDatabase", {**DB, "clusterIdentifier": identifier}) == []) is ok


@pytest.mark.parametrize(
    ("field", "value", "referent"),
    [
        ("connection", {"configMapName": "other/x"}, "a ConfigMap"),
        ("connection", {"configMapName": "x", "namespace": "other"}, "a ConfigMap"),
    ],
)
def test_references_leave_no_namespace(field: str, value: dict[str, str], referent: str) -> None:
    (line,) = validate_spec("UpskillTable", {**TABLE, field: value})
    assert line.endswith(f"cross-namespace references are not allowed: name {referent} in this namespace")


@pytest.mark.parametrize(
    "expression",
    ["cron(0 \u0664 * * ? *)", "cron(0 4\t1 * ? *)", "rate(1\u2003day)", "rate(1 day)\n", "cron(0 4 * * ? *)\nx"],
)
def test_schedules_take_ascii_digits_and_spaces_only(expression: str) -> None:
    with pytest.raises(ValueError):
        parse_schedule(expression)


def test_plain_schedules_still_parse() -> None:
    assert parse_schedule("rate(12 hours)") is not None
    assert parse_schedule(" cron(0  4 1 * ? *) ") is not None
