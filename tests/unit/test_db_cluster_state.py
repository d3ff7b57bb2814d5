"""The cluster plan: what AWS does on its own is not drift; changes are in place or refused; one modify."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from upskill_operator.adapters.database.cluster_plan import (
    ClusterState,
    ObservedCluster,
    Scaling,
    create_request,
    desired_cluster,
    observed_cluster,
    plan_cluster,
    version,
)
from upskill_operator.models.database import DatabaseSpec

from unit.crd_support import example

TAGS = {"upskill.io/owner": "upskill/auth-db", "team": "learning"}
AUTH = DatabaseSpec.model_validate(example("UpskillDatabase", "auth-db")["spec"])
COURSE = DatabaseSpec.model_validate(example("UpskillDatabase", "course-db")["spec"])


def want(spec: DatabaseSpec = AUTH, kms: str | None = None) -> ClusterState:
    return desired_cluster(spec, subnet_group="sg", security_group_ids=["sg-1"], kms_key_arn=kms, tags=TAGS)


def have(state: ClusterState, **changes: Any) -> ObservedCluster:
    base = ObservedCluster(**{f: getattr(state, f) for f in ClusterState.__dataclass_fields__}, identifier="c")
    return replace(base, **changes)


def plan(state: ClusterState, observed: ObservedCluster, managed: tuple[str, ...] = (), major: bool = False) -> Any:
    return plan_cluster(state, observed, managed, allow_major=major)


def test_observed_as_desired_is_up_to_date() -> None:
    result = plan(want(), have(want()))
    assert (result.diff, result.conflicts, result.pending, result.changes) == ((), (), None, {})


@pytest.mark.parametrize(
    ("aws", "spec", "changes", "conflict"),
    [
        ("16.6", "16.4", {}, None),  # AWS upgraded the minor on its own: not drift
        ("16.4.2", "16.4", {}, None),
        ("16.2", "16.4", {"EngineVersion": "16.4"}, None),
        ("15.7", "16.4", {}, "needs allowMajorVersionUpgrade: true"),
        ("17.1", "16.4", {}, "cannot downgrade"),
    ],
)
def test_engine_versions(aws: str, spec: str, changes: dict[str, Any], conflict: str | None) -> None:
    state = replace(want(), engine_version=spec)
    result = plan(state, have(state, engine_version=aws))
    assert result.changes == changes
    assert [c for c in result.conflicts if conflict and conflict in c] == ([result.conflicts[0]] if conflict else [])


def test_major_upgrade_with_opt_in() -> None:
    state = replace(want(), engine_version="17.4")
    result = plan(state, have(state, engine_version="16.4"), major=True)
    assert result.conflicts == ()
    assert result.changes == {"EngineVersion": "17.4", "AllowMajorVersionUpgrade": True}
    assert version("16") == (16, 0)


def test_serverless_scaling_normalised() -> None:
    state = want()  # min 0, max 4, pause 300
    assert plan(state, have(state, scaling=Scaling(0, 4, None))).diff == ()  # AWS's default pause is 300
    result = plan(state, have(state, scaling=Scaling(0, 4, 600)))
    assert result.changes == {
        "ServerlessV2ScalingConfiguration": {"MinCapacity": 0, "MaxCapacity": 4, "SecondsUntilAutoPause": 300}
    }
    warm = replace(state, scaling=Scaling(1, 8))
    assert plan(warm, have(warm, scaling=Scaling(1, 8, 300))).diff == ()  # pause is moot above 0 ACU
    provisioned = want(COURSE)
    assert provisioned.scaling is None
    assert plan(provisioned, have(provisioned, scaling=Scaling(0.5, 16))).diff == ()


def test_in_place_changes_go_into_one_modify() -> None:
    state = want()
    observed = have(
        state,
        iam_auth=False,
        backup_retention=1,
        backup_window="01:00-01:30",
        copy_tags=False,
        deletion_protection=False,
        security_group_ids=frozenset({"sg-old"}),
        managed_password=False,
    )
    result = plan(state, observed)
    assert result.changes == {
        "EnableIAMDatabaseAuthentication": True,
        "BackupRetentionPeriod": 7,
        "PreferredBackupWindow": "03:00-04:00",
        "CopyTagsToSnapshot": True,
        "DeletionProtection": True,
        "VpcSecurityGroupIds": ["sg-1"],
        "ManageMasterUserPassword": True,
    }
    assert result.conflicts == ()


def test_unset_backup_window_is_aws_choice() -> None:
    state = replace(want(), backup_window=None)
    result = plan(state, have(state, backup_window="07:11-07:41"))
    assert result.diff == ()
    assert result.late_initialized == ("spec.backup.preferredWindow",)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"database_name": "other"}, "spec.databaseName: immutable after creation (AWS has other, spec asks auth)"),
        ({"master_username": "root"}, "spec.masterUser.username: immutable after creation"),
        ({"storage_encrypted": False}, "spec.storageEncrypted: immutable after creation"),
        ({"engine": "aurora-mysql"}, "the engine cannot change"),
        ({"kms_key": "arn:aws:kms:us-east-1:1:key/other"}, "spec.kmsKeyId: immutable after creation"),
    ],
)
def test_immutable_differences_are_conflicts(changes: dict[str, Any], message: str) -> None:
    state = want(kms="arn:aws:kms:us-east-1:1:key/mine")
    result = plan(state, have(state, **changes))
    assert len(result.conflicts) == 1
    assert message in result.conflicts[0]


def test_transitional_states_wait() -> None:
    state = want()
    assert plan(state, have(state, status="backing-up")).pending == "cluster is backing-up"
    assert plan(state, have(state, pending_modified=("EngineVersion",))).pending == (
        "cluster has pending modifications (EngineVersion)"
    )


def test_tags_only_managed_keys_are_removed() -> None:
    state = want()
    result = plan(state, have(state, tags={**TAGS, "old": "1", "foreign": "2"}), managed=("old", "team"))
    assert (result.tags_to_set, result.tags_to_remove, result.diff) == ({}, ("old",), ("tags",))
    assert result.changes == {}


def test_create_request() -> None:
    serverless = create_request(want())
    assert serverless["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 0,
        "MaxCapacity": 4,
        "SecondsUntilAutoPause": 300,
    }
    assert serverless["ManageMasterUserPassword"] is True
    assert "KmsKeyId" not in serverless
    assert {t["Key"] for t in serverless["Tags"]} == set(TAGS)
    provisioned = create_request(want(COURSE, kms="arn:k"))
    assert "ServerlessV2ScalingConfiguration" not in provisioned
    assert (provisioned["KmsKeyId"], provisioned["MasterUserSecretKmsKeyId"]) == ("arn:k", "arn:k")
    assert provisioned["PreferredBackupWindow"] == "03:00-04:00"


def test_observed_from_aws_shape() -> None:
    raw = {
        "DBClusterIdentifier": "c",
        "Engine": "aurora-postgresql",
        "EngineVersion": "16.4",
        "Status": "available",
        "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.0, "MaxCapacity": 4.0},
        "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-1", "Status": "active"}],
        "MasterUserSecret": {"SecretArn": "arn:secret"},
        "DBClusterMembers": [{"DBInstanceIdentifier": "c-0", "IsClusterWriter": True}],
        "TagList": [{"Key": "a", "Value": "b"}],
    }
    observed = observed_cluster(raw)
    assert observed.scaling == Scaling(0.0, 4.0, None)
    assert observed.security_group_ids == frozenset({"sg-1"})
    assert (observed.secret_arn, observed.managed_password, observed.members) == ("arn:secret", True, (("c-0", True),))
    assert observed.tags == {"a": "b"}
