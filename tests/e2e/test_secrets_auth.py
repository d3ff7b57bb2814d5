"""Auth per user end to end: what the master user gets on an IAM proxy, and contradictions refused.

Holds on the lenient bed and on the strict one alike: it asserts what is delivered and what is
refused (Terminal, zero AWS writes), not who can log in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import Bed, condition, wait_for
from e2e.secret_support import (
    PLURAL,
    PROXY,
    apply_database,
    database_status,
    kube_value,
    master_secret,
    ready,
    secret_doc,
    secrets_operator,
    terminal,
    unique,
)

pytestmark = pytest.mark.e2e

PASSWORD = "m4ster-pw"


@pytest.fixture
def operator(bed: Bed, monkeypatch: pytest.MonkeyPatch) -> Iterator[OperatorThread]:
    with secrets_operator(bed, monkeypatch) as running:
        yield running


def test_the_master_on_an_iam_proxy_gets_a_url_without_password(bed: Bed, operator: OperatorThread) -> None:
    db, name, target = unique("auth-db"), unique("master-url"), unique("env")
    apply_database(bed, db, database_status(master_secret(bed, "upskill_admin", PASSWORD)), iam_auth="Required")
    bed.apply(secret_doc(name, {"database": {"ref": db}}, target={"secretName": target, "key": "DB_URL"}))
    ready(bed, name)
    delivered = kube_value(bed, target, "DB_URL")
    assert delivered.startswith(f"postgresql://upskill_admin@{PROXY}:5432/auth?sslmode=")
    assert PASSWORD not in delivered


def test_a_password_for_the_master_on_an_iam_proxy_is_refused_with_no_aws_write(
    bed: Bed, operator: OperatorThread
) -> None:
    db, name, target = unique("auth-db"), unique("master-pw"), unique("env")
    apply_database(bed, db, database_status(master_secret(bed, "upskill_admin", PASSWORD)), iam_auth="Required")
    writes = len(bed.calls.mutating())
    bed.apply(
        secret_doc(name, {"database": {"ref": db, "auth": "Password"}}, target={"secretName": target, "key": "URL"})
    )
    obj = terminal(bed, name)
    message = condition(obj, "Terminal")["message"]
    assert "spec.source.database.auth: Password" in message
    assert f"UpskillDatabase {db} has spec.proxy.iamAuth: Required" in message
    assert bed.calls.mutating()[writes:] == []
    assert PASSWORD not in json.dumps(bed.get(PLURAL, name))


def test_two_secrets_of_one_user_must_agree_on_auth(bed: Bed, operator: OperatorThread) -> None:
    db, first, second = unique("course-db"), unique("course-url"), unique("course-read")
    status = database_status(master_secret(bed, "upskill_admin", PASSWORD))
    writes = len(bed.calls.mutating())
    # Both exist before their database does (they wait for it, writing nothing), so neither can act
    # alone first: had the first a pass before the second existed, it would rightly make its secret.
    bed.apply(secret_doc(first, {"database": {"ref": db, "user": "course_app", "endpoint": "writer", "auth": "IAM"}}))
    bed.apply(secret_doc(second, {"database": {"ref": db, "user": "course_app", "endpoint": "reader"}}))
    apply_database(bed, db, status)
    obj = terminal(bed, second)
    message = condition(obj, "Terminal")["message"]
    assert message.startswith("source: spec.source.database.auth: Password, but UpskillSecret")
    assert "spec.source.database.auth: IAM for the same user course_app" in message
    wait_for(lambda: condition(bed.get(PLURAL, first), "Terminal").get("status") == "True", 30, f"{first} Terminal")
    assert bed.calls.mutating()[writes:] == []
