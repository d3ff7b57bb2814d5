"""UpskillSecret: defaults, refusals (with their exact messages), updates, and no value anywhere."""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.models.secret import SecretSpec
from upskill_operator.models.validation import validate_spec

from unit.crd_support import DELETE, admission_errors, assert_refused, example, mutated, root_schema, walk

KIND = "UpskillSecret"
URL = example(KIND, "auth-db-url")["spec"]
GENERATED = example(KIND, "better-auth-secret")["spec"]
JSON_FORM = example(KIND, "course-db-read-url")["spec"]
IMPORTED = example(KIND, "stripe-key")["spec"]
SAME_NS = "cross-namespace references are not allowed: name an UpskillDatabase in this namespace"
OBJECT_NAME = "must be a Kubernetes object name: a-z 0-9 - . (starting and ending with a letter or digit)"


def test_defaults_keep_a_recovery_window() -> None:
    spec = SecretSpec.model_validate(GENERATED)
    assert spec.deletion_policy == "Delete"
    assert spec.force_delete is False
    assert spec.recovery_window_days == 7
    assert spec.source.generate is not None
    assert spec.source.generate.length == 48
    assert spec.source.generate.require_each_included_type is True
    assert spec.source.generate.include_space is False
    assert spec.target is not None
    assert spec.target.refresh_interval_seconds == 300
    url = SecretSpec.model_validate(URL)
    assert url.source.database is not None
    assert url.source.database.user is None
    assert SecretSpec.model_validate(IMPORTED).target is not None


def test_no_value_field_in_spec_or_status() -> None:
    forbidden = {"value", "password", "secretstring", "secretbinary", "plaintext", "data", "stringdata"}
    for path, node in walk(root_schema(KIND)):
        for name in node.get("properties", {}):
            assert name.lower() not in forbidden, f"{path}.{name}"


S = "spec.source"
INVALID: list[Any] = [
    ("no-source", URL, {"source": {}}, [f"{S}: exactly one of generate, fromSecret or database must be set"], "cel"),
    (
        "two-sources",
        URL,
        {"source.generate": {}},
        [f"{S}: exactly one of generate, fromSecret or database must be set"],
        "cel",
    ),
    (
        "short",
        GENERATED,
        {"source.generate.length": 7},
        [f"{S}.generate.length: must be between 8 and 4096 (got 7)"],
        "schema",
    ),
    (
        "long",
        GENERATED,
        {"source.generate.length": 4097},
        [f"{S}.generate.length: must be between 8 and 4096 (got 4097)"],
        "schema",
    ),
    (
        "window-short",
        URL,
        {"recoveryWindowDays": 6},
        ["spec.recoveryWindowDays: must be between 7 and 30 (got 6)"],
        "schema",
    ),
    (
        "window-long",
        URL,
        {"recoveryWindowDays": 31},
        ["spec.recoveryWindowDays: must be between 7 and 30 (got 31)"],
        "schema",
    ),
    ("other-namespace-ref", URL, {"source.database.ref": "other/auth-db"}, [f"{S}.database.ref: {SAME_NS}"], "schema"),
    ("namespace-field", URL, {"source.database.namespace": "other"}, [f"{S}.database.namespace: {SAME_NS}"], "webhook"),
    (
        "ref-name",
        URL,
        {"source.database.ref": "Auth_DB"},
        [f"{S}.database.ref: {OBJECT_NAME}"],
        "schema",
    ),
    (
        "endpoint",
        URL,
        {"source.database.endpoint": "primary"},
        [f"{S}.database.endpoint: must be one of 'proxy', 'proxyReadOnly', 'writer' or 'reader' (got 'primary')"],
        "schema",
    ),
    (
        "app-user-reserved",
        URL,
        {"source.database.user": "pg_reader", "source.database.endpoint": "writer"},
        [f"{S}.database.user: 'pg_reader' is reserved for PostgreSQL or RDS roles"],
        "webhook",
    ),
    (
        "app-user-admin",
        URL,
        {"source.database.user": "postgres", "source.database.endpoint": "writer"},
        [f"{S}.database.user: 'postgres' is an administrator's name; an application user needs a name of its own"],
        "webhook",
    ),
    (
        "from-secret-key",
        IMPORTED,
        {"source.fromSecret.key": "a/b"},
        [f"{S}.fromSecret.key: must be a Kubernetes Secret key: a-z A-Z 0-9 - . _"],
        "schema",
    ),
    (
        "env-digit",
        URL,
        {"target.key": "1_URL"},
        ["spec.target.key: must be an environment variable name (A-Z a-z 0-9 _, no leading digit)"],
        "schema",
    ),
    (
        "env-dash",
        URL,
        {"target.key": "AUTH-DB-URL"},
        ["spec.target.key: must be an environment variable name (A-Z a-z 0-9 _, no leading digit)"],
        "schema",
    ),
    (
        "env-injection",
        URL,
        {"target.key": "URL\nX=1"},
        ["spec.target.key: must be an environment variable name (A-Z a-z 0-9 _, no leading digit)"],
        "schema",
    ),
    ("key-and-keys", JSON_FORM, {"target.key": "URL"}, ["spec.target: exactly one of key or keys must be set"], "cel"),
    ("no-key", URL, {"target.key": DELETE}, ["spec.target: exactly one of key or keys must be set"], "cel"),
    (
        "keys-need-json",
        JSON_FORM,
        {"source.database.format": "url"},
        ["spec.target.keys: needs a JSON value (source.database.format: json)"],
        "cel",
    ),
    (
        "repeated-key",
        JSON_FORM,
        {"target.keys[1].key": "COURSE_DB_READ_URL"},
        ["spec.target.keys: must not repeat keys (repeated: COURSE_DB_READ_URL)"],
        "schema",  # a map-type list: the API server refuses repeated keys (Duplicate value)
    ),
    (
        "restart-kind",
        URL,
        {"target.restartOnChange[0].kind": "Job"},
        ["spec.target.restartOnChange[0].kind: must be one of 'Deployment', 'StatefulSet' or 'DaemonSet' (got 'Job')"],
        "schema",
    ),
    (
        "refresh-fast",
        URL,
        {"target.refreshIntervalSeconds": 5},
        ["spec.target.refreshIntervalSeconds: must be between 10 and 86400 (got 5)"],
        "schema",
    ),
    (
        "every-zero",
        URL,
        {"rotation.everyDays": 0},
        ["spec.rotation.everyDays: must be between 1 and 1000 (got 0)"],
        "schema",
    ),
    (
        "two-schedules",
        URL,
        {"rotation.scheduleExpression": "rate(10 days)"},
        ["spec.rotation: set everyDays or scheduleExpression, not both"],
        "cel",
    ),
    (
        "no-schedule",
        URL,
        {"rotation.everyDays": DELETE},
        ["spec.rotation: enabled rotation needs everyDays or scheduleExpression"],
        "cel",
    ),
    (
        "schedule-syntax",
        URL,
        {"rotation": {"scheduleExpression": "daily"}},
        ["spec.rotation.scheduleExpression: must be rate(...) or cron(...)"],
        "schema",
    ),
    (
        "lambda-arn",
        URL,
        {"rotation.lambdaArn": "arn:aws:lambda:eu-west-1:1:function:x"},
        ["spec.rotation.lambdaArn: must be a Lambda function ARN"],
        "schema",
    ),
    (
        "rotate-imported",
        IMPORTED,
        {"rotation": {"everyDays": 30}},
        ["spec.rotation: cannot rotate a fromSecret value without lambdaArn (a person provides it)"],
        "cel",
    ),
    (
        "force-with-retain",
        JSON_FORM,
        {"forceDelete": True},
        ["spec.forceDelete: only applies with deletionPolicy: Delete"],
        "cel",
    ),
    (
        "aws-name",
        URL,
        {"secretName": "my secret"},
        ["spec.secretName: must use only A-Z a-z 0-9 / _ + = . @ -"],
        "schema",
    ),
    (
        "aws-name-long",
        URL,
        {"secretName": "a" * 513},
        ["spec.secretName: must be at most 512 characters (got 513)"],
        "schema",
    ),
    (
        "aws-tag",
        URL,
        {"tags": {"aws:createdBy": "me"}},
        ["spec.tags: tag key 'aws:createdBy' uses a reserved prefix (aws: or upskill.io/)"],
        "webhook",
    ),
    ("value-field", URL, {"value": "hunter2"}, ["spec.value: unknown field (not in this kind's schema)"], "webhook"),
]


@pytest.mark.parametrize(
    ("base", "changes", "expected", "admission"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_refused_with_exact_messages(
    base: dict[str, Any], changes: dict[str, Any], expected: list[str], admission: str
) -> None:
    assert_refused(KIND, mutated(base, changes), expected, admission)


def test_refusals_never_echo_the_input_of_a_secret_field() -> None:
    lines = validate_spec(KIND, mutated(URL, {"value": "hunter2", "target.key": "hunter2-x"}))
    assert lines
    assert not any("hunter2" in line for line in lines)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"secretName": "upskill/auth-db-url"}, ["spec.secretName: immutable after creation"]),
        ({"source": {"generate": {"length": 64}}, "target.key": "AUTH_DB_URL"}, []),
        ({"rotation.everyDays": 7, "recoveryWindowDays": 30, "kmsKeyId": "alias/other"}, []),
    ],
)
def test_updates(changes: dict[str, Any], expected: list[str]) -> None:
    new = mutated(URL, changes)
    assert validate_spec(KIND, new, old_spec=URL) == expected
    assert bool(admission_errors(KIND, new, old_spec=URL)) is bool(expected)


def test_secret_name_may_not_change_once_set() -> None:
    old = mutated(URL, {"secretName": "upskill/auth-db-url"})
    for new in (mutated(old, {"secretName": "upskill/other"}), mutated(old, {"secretName": DELETE})):
        assert_refused(KIND, new, ["spec.secretName: immutable after creation"], "cel", old_spec=old)


def test_disabled_rotation_needs_no_schedule() -> None:
    assert validate_spec(KIND, mutated(URL, {"rotation": {"enabled": False}})) == []
