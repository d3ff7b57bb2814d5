"""The bed's IAM evaluator decides as AWS documents, one named case per rule it implements."""

from __future__ import annotations

from typing import Any

import pytest

from upskill_sandbox.iam_eval import Request, evaluate

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:upskill/team-a/db-AbCdEf"


def allow(condition: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": "S", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue"}
    statement["Resource"] = "arn:aws:secretsmanager:*:*:secret:upskill/*"
    statement.update(fields)
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def ask(
    context: dict[str, Any] | None = None, action: str = "secretsmanager:GetSecretValue", resource: str = ARN
) -> Request:
    return Request(action, resource, context or {})


CASES: list[tuple[str, dict[str, Any], Request, bool]] = [
    ("action and resource match", allow(), ask(), True),
    ("actions are case-insensitive", allow(), ask(action="SecretsManager:getsecretvalue"), True),
    ("another action is implicitly denied", allow(), ask(action="secretsmanager:PutSecretValue"), False),
    ("resources are case-sensitive", allow(), ask(resource=ARN.replace("upskill/", "Upskill/")), False),
    ("a resource outside the pattern", allow(), ask(resource=ARN.replace("upskill/", "team-b/")), False),
    ("NotAction allows what it does not name", allow(NotAction="iam:*", Action=None), ask(), True),
    ("NotResource excludes what it names", allow(NotResource="*upskill/*", Resource=None), ask(), False),
    ("Null false: the key must be present", allow({"Null": {"aws:ResourceTag/o": "false"}}), ask(), False),
    ("Null false, present", allow({"Null": {"aws:ResourceTag/o": "false"}}), ask({"aws:ResourceTag/o": "a/b"}), True),
    ("Null true: absent", allow({"Null": {"aws:ResourceTag/o": "true"}}), ask(), True),
    ("Null true, present", allow({"Null": {"aws:ResourceTag/o": "true"}}), ask({"aws:ResourceTag/o": "x"}), False),
    (
        "key names are case-insensitive",
        allow({"Null": {"AWS:resourcetag/O": "false"}}),
        ask({"aws:ResourceTag/o": "x"}),
        True,
    ),
    ("StringEquals, a listed value", allow({"StringEquals": {"k": ["a", "b"]}}), ask({"k": "b"}), True),
    ("StringEquals is exact", allow({"StringEquals": {"k": "a"}}), ask({"k": "A"}), False),
    ("StringEquals, missing key", allow({"StringEquals": {"k": "a"}}), ask(), False),
    ("StringNotEquals, missing key holds", allow({"StringNotEquals": {"k": "a"}}), ask(), True),
    ("StringNotEquals, the value", allow({"StringNotEquals": {"k": "a"}}), ask({"k": "a"}), False),
    (
        "StringLike wildcard",
        allow({"StringLike": {"k": "arn:aws:rds:*:*:cluster:upskill-*"}}),
        ask({"k": "arn:aws:rds:r:1:cluster:upskill-a"}),
        True,
    ),
    (
        "StringLike outside",
        allow({"StringLike": {"k": "arn:aws:rds:*:*:cluster:upskill-*"}}),
        ask({"k": "arn:aws:rds:r:1:cluster:team-b"}),
        False,
    ),
    ("StringLike ? is one character", allow({"StringLike": {"k": "a?c"}}), ask({"k": "abbc"}), False),
    ("StringEqualsIfExists, missing", allow({"StringEqualsIfExists": {"k": "a"}}), ask(), True),
    ("StringEqualsIfExists, other value", allow({"StringEqualsIfExists": {"k": "a"}}), ask({"k": "b"}), False),
    ("Bool", allow({"Bool": {"aws:ViaAWSService": "true"}}), ask({"aws:ViaAWSService": "true"}), True),
    ("Bool false", allow({"Bool": {"aws:ViaAWSService": "true"}}), ask({"aws:ViaAWSService": "false"}), False),
    ("Bool missing", allow({"Bool": {"aws:ViaAWSService": "true"}}), ask(), False),
    (
        "ArnLike per part",
        allow({"ArnLike": {"k": "arn:aws:iam::*:policy/b"}}),
        ask({"k": "arn:aws:iam::1:policy/b"}),
        True,
    ),
    (
        "ArnLike: * stays in its part",
        allow({"ArnLike": {"k": "arn:aws:iam::*:policy/b"}}),
        ask({"k": "arn:aws:iam::1:x:policy/b"}),
        False,
    ),
    ("operators AND", allow({"Null": {"a": "false"}, "StringEquals": {"b": "1"}}), ask({"a": "x", "b": "2"}), False),
    ("keys AND", allow({"StringEquals": {"a": "1", "b": "1"}}), ask({"a": "1"}), False),
    (
        "ForAnyValue",
        allow({"ForAnyValue:StringEquals": {"aws:TagKeys": ["x"]}}),
        ask({"aws:TagKeys": ["y", "x"]}),
        True,
    ),
    ("ForAnyValue, missing", allow({"ForAnyValue:StringEquals": {"aws:TagKeys": ["x"]}}), ask(), False),
    (
        "ForAllValues",
        allow({"ForAllValues:StringLike": {"aws:TagKeys": ["upskill.io/*"]}}),
        ask({"aws:TagKeys": ["upskill.io/a", "b"]}),
        False,
    ),
    ("ForAllValues, missing holds", allow({"ForAllValues:StringLike": {"aws:TagKeys": ["x"]}}), ask(), True),
]


@pytest.mark.parametrize(("policy", "request_", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decisions(policy: dict[str, Any], request_: Request, expected: bool) -> None:
    for statement in policy["Statement"]:
        for key in [k for k, v in statement.items() if v is None]:
            del statement[key]
    assert evaluate([policy], request_).allowed is expected


def test_an_explicit_deny_wins_over_any_allow() -> None:
    deny = {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    assert evaluate([allow()], ask()).allowed
    decision = evaluate([allow(), deny], ask())
    assert (decision.allowed, decision.reason) == (False, "ExplicitDeny")


def test_a_boundary_must_allow_too_and_the_allowing_sids_are_named() -> None:
    other = {"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}
    decision = evaluate([allow()], ask(), boundary=other)
    assert (decision.allowed, decision.reason) == (False, "BoundaryDeny")
    decision = evaluate([allow()], ask(), boundary=allow())
    assert (decision.allowed, decision.statements) == (True, ("S",))


def test_an_unknown_operator_raises_instead_of_allowing() -> None:
    with pytest.raises(ValueError, match="NumericLessThan"):
        evaluate([allow({"NumericLessThan": {"k": "3"}})], ask({"k": "1"}))
