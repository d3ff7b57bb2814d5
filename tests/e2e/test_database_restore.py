"""Restoring an UpskillDatabase end to end, with the data proven back through the apps' own URLs.

The whole operator runs (databases and secrets) on moto, the Kubernetes emulator and the bed's data
plane: every emulated cluster has a physical PostgreSQL database of its own, a snapshot is a dump of
it at that moment (:mod:`upskill_sandbox.snapshot_data`), and a restored cluster starts from that
dump, and a restore to a point in time starts from the bed's timeline copy at or before that time.
Rows are written and read through the URL an UpskillSecret delivers (an application user on the RDS
Proxy endpoint), so the secrets following the restored cluster is part of what is proven: undoing a
deletion under the same name, restoring beside a live source to a time between two writes and switching
the app's UpskillSecret, waiting on a final snapshot still being taken, and on-demand snapshots kept or
deleted by the deletion policy.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import Bed, condition, passes_of, wait_for
from e2e.db_support import Aws, backed_operator, cleanup, cluster_id, db_doc, get
from e2e.db_support import ready as db_ready
from e2e.planes import PLANES
from e2e.secret_support import kube_value, secret_doc, unique
from e2e.secret_support import ready as secret_ready

pytestmark = pytest.mark.e2e


@pytest.fixture
def operator(bed: Bed, pg_url: str) -> Iterator[OperatorThread]:
    aws = bed.settings.aws.model_copy(update={"calls_per_second": {}})
    with backed_operator(bed, pg_url, kind_resync_seconds={}, aws=aws) as running:
        yield running
        cleanup(bed)


def course_db(name: str, dbname: str, **spec: Any) -> dict[str, Any]:
    """The course example with its migrations (the schema the rows live in), the Snapshot policy by default."""
    return db_doc("course", name, databaseName=dbname, migrations={"set": "course"}, deletionPolicy="Snapshot", **spec)


def app_url(bed: Bed, database: str) -> tuple[str, str]:
    """(UpskillSecret name, the URL it delivers) of a read-write application user on ``database``'s proxy."""
    name = unique("course-app")
    source = {"ref": database, "user": "course_app", "memberOf": ["course_readwrite"]}
    bed.apply(secret_doc(name, {"database": source}, target={"secretName": f"{name}-env", "key": "DB_URL"}))
    secret_ready(bed, name, timeout=60)
    url = kube_value(bed, f"{name}-env", "DB_URL")
    assert url is not None
    return name, url


def write_course(url: str, slug: str) -> None:
    with psycopg.connect(url, connect_timeout=5) as conn:
        conn.execute("INSERT INTO courses (slug, title) VALUES (%s, %s)", (slug, slug.title()))


def slugs(url: str) -> list[str]:
    with psycopg.connect(url, connect_timeout=5) as conn:
        return [r[0] for r in conn.execute("SELECT slug FROM courses ORDER BY slug").fetchall()]


def readable(url: str) -> list[str] | None:
    """The slugs, or None while the URL does not log in yet (a new cluster's front, a repaired user)."""
    try:
        return slugs(url)
    except psycopg.Error:
        return None


def migrations_applied(bed: Bed, name: str) -> int:
    return int((((get(bed, name) or {}).get("status") or {}).get("migrations") or {}).get("applied") or 0)


def test_undo_a_deletion_brings_the_rows_back(bed: Bed, operator: OperatorThread) -> None:
    aws, db, dbname = Aws(bed), unique("course-db"), f"course_{uuid.uuid4().hex[:6]}"
    bed.apply(course_db(db, dbname))
    db_ready(bed, db, timeout=90)
    wait_for(lambda: migrations_applied(bed, db) == 3, 60, "the course migrations applied")
    secret, url = app_url(bed, db)
    for slug in ("intro-sql", "joins"):
        write_course(url, slug)
    assert slugs(url) == ["intro-sql", "joins"]

    # Deleted by mistake under the default policy: the cluster goes, its final snapshot stays.
    bed.delete("upskilldatabases", db)
    wait_for(lambda: get(bed, db) is None, 90, "the database deleted")
    finals = [s for s in aws.snapshots(db) if "-final-" in s["DBClusterSnapshotIdentifier"]]
    assert [s["Status"] for s in finals] == ["available"]
    assert aws.clusters(db) == []

    # Undo: one apply of the same database, restored from its own final snapshot.
    bed.apply(course_db(db, dbname, restore={"fromSnapshot": {"finalSnapshotOf": db}}))
    restored = db_ready(bed, db, timeout=120)
    assert restored["status"]["restoredFrom"]["snapshot"] == finals[0]["DBClusterSnapshotIdentifier"]
    assert restored["status"]["restoredFrom"]["restoredAt"]
    cluster = aws.cluster(db)
    assert cluster["MasterUserSecret"]["SecretArn"] == restored["status"]["masterUserSecretArn"]  # its own secret
    assert {t["Key"] for t in cluster["TagList"]} >= {"upskill.io/owner", "upskill.io/uid"}

    # The migrations found the restored schema, and the app's URL (the same UpskillSecret, untouched) reads the rows.
    wait_for(lambda: migrations_applied(bed, db) == 3, 60, "the migrations status of the restored cluster")
    new_url = wait_for(lambda: (u := kube_value(bed, f"{secret}-env", "DB_URL")) and readable(u) is not None and u, 90)
    assert slugs(new_url) == ["intro-sql", "joins"]
    write_course(new_url, "window-functions")  # and the app user may write again (its password repaired)
    assert slugs(new_url) == ["intro-sql", "joins", "window-functions"]
    assert cluster_id(db) == cluster["DBClusterIdentifier"]


def test_a_time_between_two_writes_sees_only_the_first(bed: Bed, pg_url: str, operator: OperatorThread) -> None:
    backer = PLANES[pg_url].backer
    assert backer is not None
    backer.timeline_seconds = 0.5  # the bed's timeline of copies (snapshot_data): what a time restores from
    try:
        src, dbname = unique("course-db"), f"course_{uuid.uuid4().hex[:6]}"
        bed.apply(course_db(src, dbname))
        db_ready(bed, src, timeout=90)
        wait_for(lambda: migrations_applied(bed, src) == 3, 60, "the course migrations applied")
        secret, url = app_url(bed, src)
        write_course(url, "first")
        written = datetime.now(UTC)
        rds = bed.boto("rds")

        def latest() -> datetime:
            found: datetime = rds.describe_db_clusters(DBClusterIdentifier=cluster_id(src))["DBClusters"][0][
                "LatestRestorableTime"
            ]
            return found.astimezone(UTC)

        between = wait_for(lambda: (t := latest()) > written and t, 30, "a restorable time after the first write")
        write_course(url, "second")

        # Restore beside the live source, to the time between the writes; then switch the app's UpskillSecret.
        pit = unique("course-pit")
        when = between.isoformat()
        bed.apply(course_db(pit, dbname, restore={"pointInTime": {"sourceDatabase": src, "time": when}}))
        restored = db_ready(bed, pit, timeout=120)
        assert restored["status"]["restoredFrom"]["sourceCluster"] == cluster_id(src)
        assert restored["status"]["restoredFrom"]["time"] == when
        source = {"ref": pit, "user": "course_app", "memberOf": ["course_readwrite"]}
        bed.apply(secret_doc(secret, {"database": source}))
        wait_for(lambda: (u := kube_value(bed, f"{secret}-env", "DB_URL")) and u != url and readable(u) is not None, 90)
        new_url = kube_value(bed, f"{secret}-env", "DB_URL")
        assert new_url is not None
        assert slugs(new_url) == ["first"]
        # The source keeps both (same DatabaseName, its own database); the app user left its proxy with the
        # switch, so read it as the bed's superuser in the source's own physical database.
        source_db = next(b.database for b in backer.backed.values() if b.identifier == cluster_id(src))
        with psycopg.connect(make_conninfo(pg_url, dbname=source_db)) as conn:
            rows = conn.execute("SELECT slug FROM courses ORDER BY slug").fetchall()
        assert [r[0] for r in rows] == ["first", "second"]
    finally:
        backer.timeline_seconds = 0.0


def test_a_snapshot_still_being_taken_makes_the_restore_wait_then_proceed(bed: Bed, operator: OperatorThread) -> None:
    aws, src, dbname = Aws(bed), unique("course-db"), f"course_{uuid.uuid4().hex[:6]}"
    bed.apply(db_doc("course", src, databaseName=dbname, deletionPolicy="Snapshot"))
    db_ready(bed, src, timeout=90)
    back = unique("course-back")
    bed.aws.rds.final_snapshot_describes = 100_000  # the deletion's final snapshot stays creating
    try:
        bed.delete("upskilldatabases", src)
        wait_for(lambda: [s["Status"] for s in aws.snapshots(src)] == ["creating"], 30, "the final snapshot creating")
        bed.apply(db_doc("course", back, databaseName=dbname, restore={"fromSnapshot": {"finalSnapshotOf": src}}))

        def waiting() -> bool:
            ready = condition(get(bed, back), "Ready")
            return ready.get("status") == "False" and "is creating" in ready.get("message", "")

        wait_for(waiting, 30, "the restore waiting for the snapshot")
        assert condition(get(bed, back), "Terminal").get("status") != "True"
        assert aws.subnet_groups(back) == []  # nothing created while it waits
        assert aws.clusters(back) == []
    finally:
        bed.aws.rds.final_snapshot_describes = 0
    restored = db_ready(bed, back, timeout=120)
    assert restored["status"]["restoredFrom"]["snapshot"].startswith(f"{cluster_id(src)}-final-")
    wait_for(lambda: get(bed, src) is None, 60, "the source's deletion finished")


def test_on_demand_snapshots_are_listed_and_kept_or_deleted_by_the_policy(bed: Bed, operator: OperatorThread) -> None:
    aws = Aws(bed)
    kept, dropped = unique("course-keep"), unique("course-drop")
    for name, policy in ((kept, "Snapshot"), (dropped, "Delete")):
        bed.apply(
            db_doc(
                "course",
                name,
                databaseName=f"c_{uuid.uuid4().hex[:6]}",
                deletionPolicy=policy,
                snapshots=[{"name": "before-0005"}],
            )
        )
    for name in (kept, dropped):
        shown = wait_for(lambda n=name: (get(bed, n) or {}).get("status", {}).get("snapshots"), 90, "status.snapshots")
        assert shown == [
            {
                "name": "before-0005",
                "identifier": f"{cluster_id(name)}-before-0005",
                "state": "available",
                "percent": 100,
                "createdAt": shown[0]["createdAt"],
            }
        ]
        snapshot = aws.rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=shown[0]["identifier"])
        tags = {t["Key"]: t["Value"] for t in snapshot["DBClusterSnapshots"][0]["TagList"]}
        assert tags["upskill.io/owner"] == f"e2e/{name}"
        assert tags["upskill.io/snapshot"] == "before-0005"

    # Dropping the entry from the spec never deletes the snapshot.
    bed.apply(db_doc("course", kept, databaseName=get(bed, kept)["spec"]["databaseName"], deletionPolicy="Snapshot"))
    passes_of("upskilldatabases", kept, 2)
    assert [s["DBClusterSnapshotIdentifier"] for s in aws.snapshots(kept)] == [f"{cluster_id(kept)}-before-0005"]

    for name in (kept, dropped):
        bed.delete("upskilldatabases", name)
    wait_for(lambda: get(bed, kept) is None and get(bed, dropped) is None, 90, "both deleted")
    assert sorted(s["DBClusterSnapshotIdentifier"].rsplit("-", 1)[0] for s in aws.snapshots(kept)) == sorted(
        [f"{cluster_id(kept)}-before", f"{cluster_id(kept)}-final"]
    )  # Snapshot keeps its manual snapshots beside the final one
    assert aws.snapshots(dropped) == []  # Delete deletes them with the database
