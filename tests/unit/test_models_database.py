"""UpskillDatabase: defaults, refusals (with their exact messages) and update rules."""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.models.database import DatabaseSpec, supports_auto_pause
from upskill_operator.models.validation import validate_spec

from unit.crd_support import DELETE, admission_errors, assert_refused, example, mutated

KIND = "UpskillDatabase"
AUTH = example(KIND, "auth-db")["spec"]
COURSE = example(KIND, "course-db")["spec"]


def test_examples_and_defaults() -> None:
    auth = DatabaseSpec.model_validate(AUTH)
    assert auth.capacity.serverless is not None
    assert auth.capacity.serverless.min_acu == 0
    assert auth.deletion_policy == "Snapshot"
    assert auth.deletion_protection is True
    course = DatabaseSpec.model_validate(COURSE).wire()
    assert course["proxy"] == {
        "enabled": True,
        "requireTLS": True,
        "iamAuth": "Required",
        "borrowTimeoutSeconds": 5,
        "maxConnectionsPercent": 90,
        "maxIdleConnectionsPercent": 50,
        "idleClientTimeoutSeconds": 1800,
        "readOnlyEndpoint": True,
    }
    assert course["storageEncrypted"] is True
    assert course["iamAuthentication"] is True
    assert course["capacity"] == {"provisioned": {"instanceClass": "db.t4g.medium", "readReplicas": 1}}


@pytest.mark.parametrize(
    ("version", "supported"),
    [
        *[("13.14", False), ("13.15", True), ("14.11", False), ("14.12", True), ("15.6", False), ("15.7", True)],
        *[("16.2", False), ("16.3", True), ("16.10", True), ("17.0", True), ("12.22", False)],
    ],
)
def test_auto_pause_engine_versions(version: str, supported: bool) -> None:
    assert supports_auto_pause(version) is supported


UPDATES: list[Any] = [
    ("rename-database", AUTH, {"databaseName": "auth2"}, ["spec.databaseName: immutable after creation"], "cel"),
    (
        "set-cluster-id",
        AUTH,
        {"clusterIdentifier": "auth-db"},
        ["spec.clusterIdentifier: immutable after creation"],
        "cel",
    ),
    (
        "master-user",
        AUTH,
        {"masterUser.username": "admin2"},
        ["spec.masterUser.username: immutable after creation"],
        "cel",
    ),
    ("unencrypt", AUTH, {"storageEncrypted": False}, ["spec.storageEncrypted: immutable after creation"], "cel"),
    ("add-kms-key", AUTH, {"kmsKeyId": "alias/other"}, ["spec.kmsKeyId: immutable after creation"], "cel"),
    (
        "downgrade",
        AUTH,
        {"engineVersion": "16.3"},
        ["spec.engineVersion: cannot downgrade (from 16.4 to 16.3)"],
        "webhook",
    ),
    (
        "major-upgrade",
        {**AUTH, "engineVersion": "15.7"},
        {"engineVersion": "16.4"},
        ["spec.engineVersion: a major upgrade (15 to 16) needs allowMajorVersionUpgrade: true"],
        "webhook",
    ),
]


@pytest.mark.parametrize(
    ("old", "changes", "expected", "admission"), [c[1:] for c in UPDATES], ids=[c[0] for c in UPDATES]
)
def test_refused_updates(old: dict[str, Any], changes: dict[str, Any], expected: list[str], admission: str) -> None:
    assert_refused(KIND, mutated(old, changes), expected, admission, old_spec=old)


@pytest.mark.parametrize(
    "changes",
    [
        {"engineVersion": "16.6"},
        {"engineVersion": "17.4", "allowMajorVersionUpgrade": True},
        {"capacity": {"provisioned": {"instanceClass": "db.r6g.large", "readReplicas": 2}}},
        {"capacity.serverless.maxACU": 16, "capacity.serverless.readReplicas": 1, "proxy.readOnlyEndpoint": True},
        {"proxy.borrowTimeoutSeconds": 30, "proxy.requireTLS": False, "deletionProtection": False},
        {"backup": {"retentionDays": 14}, "masterUser": DELETE, "storageEncrypted": True},
    ],
)
def test_in_place_changes_are_accepted(changes: dict[str, Any]) -> None:
    new = mutated(AUTH, changes)
    assert validate_spec(KIND, new, old_spec=AUTH) == []
    assert admission_errors(KIND, new, old_spec=AUTH) == []


def test_immutability_survives_an_invalid_new_spec() -> None:
    new = mutated(AUTH, {"databaseName": "other", "proxy.borrowTimeoutSeconds": 0})
    assert validate_spec(KIND, new, old_spec=AUTH) == [
        "spec.proxy.borrowTimeoutSeconds: must be between 1 and 3600 (got 0)",
        "spec.databaseName: immutable after creation",
    ]
