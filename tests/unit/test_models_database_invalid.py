"""UpskillDatabase refusals: each invalid spec, its exact validate_spec lines and where admission catches it."""

from __future__ import annotations

from typing import Any

import pytest

from unit.crd_support import DELETE, assert_refused, example, mutated

KIND = "UpskillDatabase"
AUTH = example(KIND, "auth-db")["spec"]
COURSE = example(KIND, "course-db")["spec"]
SUBNET = "subnet-0a1b2c3d4e5f60001"
CIDR_RULE = "must be a CIDR block with no host bits set, such as 10.0.0.0/16"

A = "spec.capacity.serverless"
INVALID: list[Any] = [
    (
        "acu-step",
        AUTH,
        {"capacity.serverless.minACU": 0.75, "capacity.serverless.autoPauseSeconds": DELETE},
        [f"{A}.minACU: must be a multiple of 0.5 (got 0.75)"],
        "cel",
    ),
    (
        "acu-range",
        AUTH,
        {"capacity.serverless.maxACU": 300},
        [f"{A}.maxACU: must be between 1 and 256 (got 300)"],
        "schema",
    ),
    (
        "max-acu-min",
        AUTH,
        {"capacity.serverless.maxACU": 0.5},
        [f"{A}.maxACU: must be between 1 and 256 (got 0.5)"],
        "schema",
    ),
    (
        "acu-negative",
        AUTH,
        {"capacity.serverless.minACU": -1},
        [f"{A}.minACU: must be between 0 and 256 (got -1)"],
        "schema",
    ),
    (
        "min-above-max",
        AUTH,
        {"capacity.serverless.minACU": 8},
        [
            f"{A}.minACU: must not exceed maxACU (got 8 > 4)",
            f"{A}.autoPauseSeconds: only applies when minACU is 0 (got minACU 8)",
        ],
        "cel",
    ),
    (
        "auto-pause-old-engine",
        AUTH,
        {"engineVersion": "16.1"},
        [f"{A}.minACU: 0 (auto-pause) needs engineVersion 13.15, 14.12, 15.7, 16.3 or later (got 16.1)"],
        "webhook",
    ),
    (
        "pause-seconds",
        AUTH,
        {"capacity.serverless.autoPauseSeconds": 60},
        [f"{A}.autoPauseSeconds: must be between 300 and 86400 (got 60)"],
        "schema",
    ),
    (
        "serverless-and-provisioned",
        AUTH,
        {"capacity.provisioned": {"instanceClass": "db.t4g.medium"}},
        ["spec.capacity: exactly one of serverless or provisioned must be set"],
        "cel",
    ),
    (
        "no-capacity",
        AUTH,
        {"capacity": {}},
        ["spec.capacity: exactly one of serverless or provisioned must be set"],
        "cel",
    ),
    (
        "serverless-class",
        COURSE,
        {"capacity.provisioned.instanceClass": "db.serverless"},
        ["spec.capacity.provisioned.instanceClass: must be an instance class (db.t4g.medium)"],
        "schema",
    ),
    (
        "too-many-readers",
        COURSE,
        {"capacity.provisioned.readReplicas": 16},
        ["spec.capacity.provisioned.readReplicas: must be between 0 and 15 (got 16)"],
        "schema",
    ),
    (
        "read-only-without-readers",
        AUTH,
        {"proxy.readOnlyEndpoint": True},
        ["spec.proxy.readOnlyEndpoint: needs at least one reader (capacity readReplicas is 0)"],
        "cel",
    ),
    (
        "read-only-without-proxy",
        COURSE,
        {"proxy.enabled": False},
        ["spec.proxy.readOnlyEndpoint: needs enabled: true"],
        "cel",
    ),
    (
        "borrow-timeout-zero",
        AUTH,
        {"proxy.borrowTimeoutSeconds": 0},
        ["spec.proxy.borrowTimeoutSeconds: must be between 1 and 3600 (got 0)"],
        "schema",
    ),
    (
        "borrow-timeout-long",
        AUTH,
        {"proxy.borrowTimeoutSeconds": 3601},
        ["spec.proxy.borrowTimeoutSeconds: must be between 1 and 3600 (got 3601)"],
        "schema",
    ),
    (
        "idle-above-max",
        COURSE,
        {"proxy.maxIdleConnectionsPercent": 95},
        ["spec.proxy.maxIdleConnectionsPercent: must not exceed maxConnectionsPercent (got 95 > 90)"],
        "cel",
    ),
    (
        "iam-auth",
        AUTH,
        {"proxy.iamAuth": "Enabled"},
        ["spec.proxy.iamAuth: must be one of 'Required' or 'Disabled' (got 'Enabled')"],
        "schema",
    ),
    (
        "role-arn",
        AUTH,
        {"proxy.roleArn": "arn:aws:iam::123:role/x"},
        ["spec.proxy.roleArn: must be an IAM role ARN"],
        "schema",
    ),
    (
        "one-subnet",
        AUTH,
        {"network.subnetIds": [SUBNET]},
        ["spec.network.subnetIds: must have at least 2 items (got 1)"],
        "schema",
    ),
    (
        "same-subnet",
        AUTH,
        {"network.subnetIds": [SUBNET, SUBNET]},
        [f"spec.network.subnetIds: must not repeat items (repeated: {SUBNET})"],
        "schema",
    ),
    (
        "subnet-name",
        AUTH,
        {"network.subnetIds[0]": "subnet-private-a"},
        ["spec.network.subnetIds[0]: must be a subnet id (subnet-0a1b2c3d)"],
        "schema",
    ),
    (
        "cidr-host-bits",
        AUTH,
        {"network.allowFrom.cidrs": ["10.0.0.1/16"]},
        [f"spec.network.allowFrom.cidrs[0]: {CIDR_RULE} (got '10.0.0.1/16')"],
        "webhook",
    ),
    (
        "groups-and-rules",
        AUTH,
        {"network.securityGroupIds": ["sg-0a1b2c3d"]},
        ["spec.network.allowFrom: must be omitted when securityGroupIds is set (no security group is created)"],
        "cel",
    ),
    (
        "database-name-case",
        AUTH,
        {"databaseName": "Auth"},
        ["spec.databaseName: must be a PostgreSQL identifier: a-z, then up to 62 of a-z 0-9 _"],
        "schema",
    ),
    (
        "database-name-reserved",
        AUTH,
        {"databaseName": "select"},
        ["spec.databaseName: 'select' is a reserved word in PostgreSQL"],
        "webhook",
    ),
    (
        "database-name-system",
        AUTH,
        {"databaseName": "template1"},
        ["spec.databaseName: 'template1' is a database Aurora manages itself"],
        "webhook",
    ),
    (
        "database-name-injection",
        AUTH,
        {"databaseName": "auth; DROP TABLE x"},
        ["spec.databaseName: must be a PostgreSQL identifier: a-z, then up to 62 of a-z 0-9 _"],
        "schema",
    ),
    (
        "database-name-long",
        AUTH,
        {"databaseName": "a" * 64},
        ["spec.databaseName: must be at most 63 characters (got 64)"],
        "schema",
    ),
    (
        "master-user-reserved",
        AUTH,
        {"masterUser.username": "rds_admin"},
        ["spec.masterUser.username: 'rds_admin' is reserved for PostgreSQL or RDS roles"],
        "webhook",
    ),
    (
        "cluster-id",
        AUTH,
        {"clusterIdentifier": "Auth_DB"},
        ["spec.clusterIdentifier: must be 1-63 of a-z 0-9 -, starting with a letter, without -- or a final -"],
        "schema",
    ),
    ("engine-version", AUTH, {"engineVersion": "16"}, ["spec.engineVersion: must be a version such as 16.4"], "schema"),
    (
        "engine-version-float",
        AUTH,
        {"engineVersion": 16.4},
        ["spec.engineVersion: must be a string (got number)"],
        "schema",
    ),
    (
        "kms-unencrypted",
        AUTH,
        {"kmsKeyId": "alias/upskill", "storageEncrypted": False},
        ["spec.kmsKeyId: needs storageEncrypted: true"],
        "cel",
    ),
    (
        "backup-short",
        AUTH,
        {"backup.preferredWindow": "03:00-03:10"},
        ["spec.backup.preferredWindow: must be at least 30 minutes long (got 10)"],
        "webhook",
    ),
    (
        "backup-format",
        AUTH,
        {"backup.preferredWindow": "3:00-4:00"},
        ["spec.backup.preferredWindow: must be hh:mm-hh:mm (UTC)"],
        "schema",
    ),
    (
        "backup-retention",
        AUTH,
        {"backup.retentionDays": 36},
        ["spec.backup.retentionDays: must be between 1 and 35 (got 36)"],
        "schema",
    ),
    (
        "migrations-both",
        AUTH,
        {"migrations.configMapName": "sql"},
        ["spec.migrations: exactly one of set or configMapName must be set"],
        "cel",
    ),
    (
        "migrations-none",
        AUTH,
        {"migrations": {}},
        ["spec.migrations: exactly one of set or configMapName must be set"],
        "cel",
    ),
    (
        "deletion-policy",
        AUTH,
        {"deletionPolicy": "Destroy"},
        ["spec.deletionPolicy: must be one of 'Snapshot', 'Retain' or 'Delete' (got 'Destroy')"],
        "schema",
    ),
    (
        "probe-slo",
        AUTH,
        {"probe.sloMilliseconds": 0},
        ["spec.probe.sloMilliseconds: must be between 1 and 60000 (got 0)"],
        "schema",
    ),
    ("unknown-field", AUTH, {"replicas": 2}, ["spec.replicas: unknown field (not in this kind's schema)"], "webhook"),
    ("missing-network", AUTH, {"network": DELETE}, ["spec.network: required"], "schema"),
    (
        "owner-tag",
        AUTH,
        {"tags": {"upskill.io/owner": "x/y"}},
        ["spec.tags: tag key 'upskill.io/owner' uses a reserved prefix (aws: or upskill.io/)"],
        "webhook",
    ),
]


@pytest.mark.parametrize(
    ("base", "changes", "expected", "admission"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_refused_with_exact_messages(
    base: dict[str, Any], changes: dict[str, Any], expected: list[str], admission: str
) -> None:
    assert_refused(KIND, mutated(base, changes), expected, admission)
