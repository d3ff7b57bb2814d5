"""The restore planners: which final snapshot undoes a deletion, what a source may not be, what a restore carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from upskill_operator.adapters.database.cluster_plan import create_request, desired_cluster
from upskill_operator.adapters.database.restore_plan import (
    RestoreSource,
    newest_final_snapshot,
    restore_request,
    source_problems,
    time_problem,
)
from upskill_operator.models.database import DatabaseSpec
from upskill_operator.models.validation import validate_spec

from unit.crd_support import example

OWNER = "upskill/course-db"
NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


def snap(name: str, status: str = "available", owner: str = OWNER, minutes: int = 0) -> dict[str, Any]:
    return {
        "DBClusterSnapshotIdentifier": name,
        "Status": status,
        "SnapshotCreateTime": NOW + timedelta(minutes=minutes),
        "TagList": [{"Key": "upskill.io/owner", "Value": owner}],
    }


def test_the_newest_available_final_snapshot_of_that_owner_is_chosen() -> None:
    snapshots = [
        snap("c-final-aaaa", minutes=1),
        snap("c-final-bbbb", minutes=5),
        snap("c-before-0005", minutes=9),  # a manual snapshot, not a final one
        snap("d-final-cccc", owner="upskill/other-db", minutes=7),
        snap("c-final-dddd", status="failed", minutes=8),
    ]
    found, waiting = newest_final_snapshot(snapshots, OWNER)
    assert found is not None
    assert found["DBClusterSnapshotIdentifier"] == "c-final-bbbb"
    assert waiting is None


def test_a_final_snapshot_still_being_taken_is_a_wait_and_none_is_nothing() -> None:
    found, waiting = newest_final_snapshot([snap("c-final-aaaa", status="creating")], OWNER)
    assert found is None
    assert waiting == "final snapshot c-final-aaaa is creating"
    assert newest_final_snapshot([snap("c-final-aaaa", owner="other/course-db")], OWNER) == (None, None)


@pytest.mark.parametrize(
    ("engine", "version", "user", "refused"),
    [
        ("aurora-postgresql", "16.4", "upskill_admin", None),
        ("aurora-postgresql", "16.2", "upskill_admin", None),
        ("aurora-mysql", "16.4", "upskill_admin", "the source's engine is aurora-mysql"),
        ("aurora-postgresql", "15.8", "upskill_admin", "is another major"),
        ("aurora-postgresql", "16.6", "upskill_admin", "would be a downgrade"),
        ("aurora-postgresql", "16.4", "admin", "set spec.masterUser.username to it"),
    ],
    ids=["same", "older-minor", "engine", "major", "downgrade", "master-user"],
)
def test_the_source_must_fit_the_spec(engine: str, version: str, user: str, refused: str | None) -> None:
    described = {"Engine": engine, "EngineVersion": version, "MasterUsername": user, "StorageEncrypted": True}
    problems = source_problems("f", described, engine_version="16.4", master_username="upskill_admin")
    assert problems == [] if refused is None else any(refused in p for p in problems)


@pytest.mark.parametrize(
    ("source", "encrypted", "key", "refused"),
    [
        (True, True, None, None),
        (False, False, None, None),
        (False, True, "alias/upskill", None),
        (False, True, None, "set spec.kmsKeyId to encrypt the restored copy"),
        (True, False, None, "spec.storageEncrypted: false cannot restore it"),
    ],
    ids=["encrypted", "plain", "encrypt-the-copy", "plain-to-encrypted", "encrypted-to-plain"],
)
def test_encryption_follows_the_source_unless_a_key_encrypts_the_copy(
    source: bool, encrypted: bool, key: str | None, refused: str | None
) -> None:
    described = {"Engine": "aurora-postgresql", "EngineVersion": "16.4", "StorageEncrypted": source}
    problems = source_problems(
        "f", described, engine_version="16.4", master_username="u", encrypted=encrypted, kms_key=key
    )
    assert problems == [] if refused is None else any(refused in p for p in problems)


def test_a_time_must_lie_inside_the_source_window() -> None:
    cluster = {"EarliestRestorableTime": NOW - timedelta(days=1), "LatestRestorableTime": NOW}
    assert time_problem("t", NOW - timedelta(hours=1), cluster) is None
    assert "outside the source's restorable window" in str(time_problem("t", NOW + timedelta(seconds=1), cluster))
    assert "outside" in str(time_problem("t", NOW - timedelta(days=2), cluster))
    assert "no restorable window" in str(time_problem("t", NOW, {}))


def test_a_restore_carries_what_the_restore_calls_take_and_nothing_else() -> None:
    spec = DatabaseSpec.model_validate(example("UpskillDatabase", "course-db")["spec"])
    want = desired_cluster(spec, subnet_group="g", security_group_ids=["sg-1"], kms_key_arn="arn:k", tags={"a": "b"})
    created, from_snapshot = create_request(want), restore_request(want, from_snapshot=True)
    for key in ("DatabaseName", "MasterUsername", "ManageMasterUserPassword", "MasterUserSecretKmsKeyId"):
        assert key in created
        assert key not in from_snapshot
    assert from_snapshot["Tags"] == created["Tags"]
    assert from_snapshot["VpcSecurityGroupIds"] == ["sg-1"]
    assert from_snapshot["EngineVersion"] == spec.engine_version
    assert "EngineVersion" not in restore_request(want, from_snapshot=False)


def test_restore_status_names_the_source() -> None:
    assert RestoreSource(snapshot="s").status() == {"snapshot": "s"}
    assert RestoreSource(source_cluster="c").status() == {"sourceCluster": "c", "time": "latest"}
    assert RestoreSource(source_cluster="c", time=NOW).status()["time"] == NOW.isoformat()


def test_the_restore_source_is_immutable_and_one_of_each() -> None:
    spec = example("UpskillDatabase", "course-db")["spec"]
    restored = {**spec, "restore": {"fromSnapshot": {"finalSnapshotOf": "course-db"}}}
    assert validate_spec("UpskillDatabase", restored) == []
    assert validate_spec("UpskillDatabase", restored, old_spec=spec) == ["spec.restore: immutable after creation"]
    assert validate_spec("UpskillDatabase", spec, old_spec=restored) == ["spec.restore: immutable after creation"]
    assert validate_spec("UpskillDatabase", restored, old_spec=restored) == []
    both = {**spec, "restore": {"fromSnapshot": {"identifier": "s", "finalSnapshotOf": "x"}}}
    assert any(
        "exactly one of identifier or finalSnapshotOf" in line for line in validate_spec("UpskillDatabase", both)
    )
    bad_time = {**spec, "restore": {"pointInTime": {"sourceDatabase": "x", "time": "2026-13-40T00:00:00Z"}}}
    assert any("valid RFC 3339" in line for line in validate_spec("UpskillDatabase", bad_time))


def test_on_demand_snapshot_names_are_distinct_and_fit_an_identifier() -> None:
    spec = example("UpskillDatabase", "course-db")["spec"]
    twice = {**spec, "snapshots": [{"name": "before-0005"}, {"name": "before-0005"}]}
    assert validate_spec("UpskillDatabase", twice) == ["spec.snapshots: must not repeat names (repeated: before-0005)"]
    bad = {**spec, "snapshots": [{"name": "Before--5"}]}
    assert [line.split(":")[0] for line in validate_spec("UpskillDatabase", bad)] == ["spec.snapshots[0].name"]
    assert validate_spec("UpskillDatabase", {**spec, "snapshots": [{"name": "before-0005"}]}) == []
