"""Auth per user: the effective auth, the contradictions refused, and the forms delivered for each."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import SecretStr

from upskill_operator.adapters.database.proxy import desired_auth
from upskill_operator.adapters.database.proxy_users import ProxyUser
from upskill_operator.adapters.secret.database_source import (
    Address,
    app_tls,
    check_auth,
    connection_document,
    operator_tls,
    postgres_url,
)
from upskill_operator.adapters.secret.values import without_fields
from upskill_operator.errors import TerminalError
from upskill_operator.models.secret import IAM_HIDDEN_FIELDS, DatabaseSource
from upskill_operator.models.validation import validate_spec

CA = "/etc/upskill/db-ca/ca.pem"
TLS = Address("127.0.0.1", 6543, app_tls(CA))


def source(**fields: Any) -> DatabaseSource:
    return DatabaseSource.model_validate({"ref": "auth-db", **fields})


def db(iam_auth: str = "Required", iam_authentication: bool = True) -> dict[str, Any]:
    return {"proxy": {"iamAuth": iam_auth}, "iamAuthentication": iam_authentication}


@pytest.mark.parametrize(
    ("fields", "spec", "expected"),
    [
        ({}, db("Required"), "IAM"),  # the master on the proxy follows iamAuth
        ({}, db("Disabled"), "Password"),
        ({"endpoint": "writer"}, db("Required"), "Password"),  # the master on the cluster: its password
        ({"user": "better_auth"}, db("Required"), "Password"),  # an app user defaults to Password
        ({"user": "progress_worker", "auth": "IAM"}, db("Disabled"), "IAM"),
        ({"user": "reporter", "auth": "IAM", "endpoint": "reader"}, db(), "IAM"),
        ({"auth": "Password"}, db("Disabled"), "Password"),
        ({"auth": "IAM"}, db("Required"), "IAM"),
    ],
)
def test_effective_auth(fields: dict[str, Any], spec: dict[str, Any], expected: str) -> None:
    assert check_auth(source(**fields), spec, "UpskillDatabase auth-db") == expected


@pytest.mark.parametrize(
    ("fields", "spec", "names"),
    [
        ({"auth": "Password"}, db("Required"), "spec.proxy.iamAuth: Required"),
        ({"auth": "Password", "endpoint": "proxyReadOnly"}, db("Required"), "spec.proxy.iamAuth: Required"),
        ({"auth": "IAM"}, db("Disabled"), "spec.proxy.iamAuth: Disabled"),
        ({"user": "w", "auth": "IAM", "endpoint": "writer"}, db(iam_authentication=False), "iamAuthentication: false"),
        ({"user": "r", "auth": "IAM", "endpoint": "reader"}, db(iam_authentication=False), "iamAuthentication: false"),
    ],
)
def test_contradictions_name_both_fields(fields: dict[str, Any], spec: dict[str, Any], names: str) -> None:
    with pytest.raises(TerminalError) as caught:
        check_auth(source(**fields), spec, "UpskillDatabase auth-db")
    assert str(caught.value).startswith("spec.source.database.auth: ")
    assert f"UpskillDatabase auth-db has {names}" in str(caught.value) or names in str(caught.value)


def test_admission_refuses_what_the_secret_alone_shows() -> None:
    master_iam = {"source": {"database": {"ref": "d", "endpoint": "writer", "auth": "IAM"}}}
    assert validate_spec("UpskillSecret", master_iam) == [
        "spec.source.database.auth: IAM is for application users on writer/reader: the master user logs in"
        " with its password there (set user, or auth: Password)"
    ]
    iam_keys = {
        "source": {"database": {"ref": "d", "user": "w", "auth": "IAM", "format": "json"}},
        "target": {"secretName": "s", "keys": [{"key": "PGHOST", "field": "host"}, {"key": "P", "field": "password"}]},
    }
    assert validate_spec("UpskillSecret", iam_keys) == [
        "spec.target.keys[1].field: an IAM value has no password or url field (source.database.auth: IAM)"
    ]
    member_master = {"source": {"database": {"ref": "d", "memberOf": ["course_readonly"]}}}
    assert validate_spec("UpskillSecret", member_master) == [
        "spec.source.database.memberOf: needs user: the master user owns the schema already"
    ]
    fine = {"source": {"database": {"ref": "d", "user": "w", "auth": "IAM", "memberOf": ["course_readwrite"]}}}
    assert validate_spec("UpskillSecret", fine) == []
    assert validate_spec("UpskillSecret", {"source": {"database": {"ref": "d", "auth": "Token"}}})


def test_password_url_verifies_the_server_with_the_mounted_ca() -> None:
    url = postgres_url("better_auth", SecretStr("p4ss"), TLS, "auth").get_secret_value()
    assert url == (
        "postgresql://better_auth:p4ss@127.0.0.1:6543/auth?sslmode=verify-full&sslrootcert=%2Fetc%2Fupskill%2Fdb-ca%2Fca.pem"
    )
    plain = postgres_url("u", SecretStr("p"), Address("h", 5432, app_tls(None)), "d").get_secret_value()
    assert plain == "postgresql://u:p@h:5432/d?sslmode=require"
    assert operator_tls("/ca.pem") == {"sslmode": "verify-full", "sslrootcert": "/ca.pem"}
    assert operator_tls(None) == {"sslmode": "require"}


def test_iam_url_has_no_password() -> None:
    url = postgres_url("progress_worker", None, TLS, "course").get_secret_value()
    assert url.startswith("postgresql://progress_worker@127.0.0.1:6543/course?sslmode=verify-full&sslrootcert=")


def test_iam_json_is_delivered_without_password_or_url_and_the_record_keeps_them() -> None:
    record = connection_document("progress_worker", SecretStr("s3cret"), TLS, "course", auth="IAM", region="eu-west-1")
    kept = json.loads(record.get_secret_value())
    assert kept["password"] == "s3cret"  # the proxy reads username/password from the secret
    assert ":s3cret@" not in kept["url"]
    delivered = json.loads(without_fields(record, IAM_HIDDEN_FIELDS).get_secret_value())
    assert delivered == {
        "auth": "IAM",
        "dbname": "course",
        "engine": "postgres",
        "host": "127.0.0.1",
        "port": 6543,
        "region": "eu-west-1",
        "sslmode": "verify-full",
        "sslrootcert": CA,
        "username": "progress_worker",
    }


def test_password_json_gains_sslrootcert_and_auth() -> None:
    doc = json.loads(connection_document("course_app", SecretStr("pw"), TLS, "course").get_secret_value())
    assert doc["auth"] == "Password"
    assert doc["sslrootcert"] == CA
    assert doc["password"] == "pw"
    assert doc["url"].startswith("postgresql://course_app:pw@127.0.0.1:6543/course?sslmode=verify-full")
    bare = json.loads(connection_document("u", SecretStr("p"), Address("h", 1, app_tls(None)), "d").get_secret_value())
    assert "sslrootcert" not in bare
    assert bare["sslmode"] == "require"


def test_proxy_entries_follow_each_users_auth() -> None:
    users = [ProxyUser("arn:worker", "progress-worker-db", iam=True), ProxyUser("arn:auth", "auth-db-url")]
    entries = {a["SecretArn"]: a["IAMAuth"] for a in desired_auth("arn:master", "Required", users)}
    assert entries == {"arn:master": "REQUIRED", "arn:auth": "DISABLED", "arn:worker": "REQUIRED"}
