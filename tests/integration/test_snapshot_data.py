"""The bed's snapshots carry data: a snapshot is the cluster's database at that moment, a restore starts from it.

Through boto3 over HTTP (as the operator calls RDS) and a real PostgreSQL behind the backer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from upskill_sandbox.aws import MotoServer, Seed
from upskill_sandbox.postgres import postgres
from upskill_sandbox.rds_backer import ClusterBacker

from integration.conftest import REGION
from integration.test_rds_backer import create


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with postgres(Path(tmp_path_factory.mktemp("pg"))) as url:
        yield url


@pytest.fixture
def backer(pg_url: str) -> Iterator[ClusterBacker]:
    running = ClusterBacker(pg_url, interval=3600)  # passes run when the test calls sync()
    running.start()
    try:
        yield running
    finally:
        running.stop()


def physical(backer: ClusterBacker, identifier: str) -> str:
    return next(b.database for b in backer.backed.values() if b.identifier == identifier)


def run(pg_url: str, database: str, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(make_conninfo(pg_url, dbname=database), autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def test_a_final_snapshot_keeps_the_rows_and_a_restore_beside_the_source_has_its_own(
    moto: MotoServer, seed: Seed, pg_url: str, backer: ClusterBacker
) -> None:
    rds = moto.client("rds", REGION)
    create(moto, seed, "snap-src", "snapdata")
    backer.sync()
    source_db = physical(backer, "snap-src")
    run(pg_url, source_db, "CREATE TABLE notes (body text)")
    run(pg_url, source_db, "INSERT INTO notes VALUES ('kept')")
    rds.create_db_cluster_snapshot(DBClusterIdentifier="snap-src", DBClusterSnapshotIdentifier="snap-src-manual")
    run(pg_url, source_db, "INSERT INTO notes VALUES ('after the snapshot')")

    # Beside the live source, with the same DatabaseName: its own physical database, the snapshot's rows.
    rds.restore_db_cluster_from_snapshot(
        DBClusterIdentifier="snap-beside", SnapshotIdentifier="snap-src-manual", Engine="aurora-postgresql"
    )
    restored = rds.describe_db_clusters(DBClusterIdentifier="snap-beside")["DBClusters"][0]
    assert restored["DatabaseName"] == "snapdata"
    assert "MasterUserSecret" not in restored  # RDS manages no master secret of a restored cluster
    rds.modify_db_cluster(DBClusterIdentifier="snap-beside", ManageMasterUserPassword=True, ApplyImmediately=True)
    backer.sync()
    beside = physical(backer, "snap-beside")
    assert beside != source_db
    assert run(pg_url, beside, "SELECT body FROM notes") == [("kept",)]
    assert run(pg_url, source_db, "SELECT body FROM notes ORDER BY body") == [("after the snapshot",), ("kept",)]

    # A final snapshot is taken before the cluster's database goes.
    rds.delete_db_cluster(DBClusterIdentifier="snap-src", FinalDBSnapshotIdentifier="snap-src-final-1")
    backer.sync()
    rds.restore_db_cluster_from_snapshot(
        DBClusterIdentifier="snap-back", SnapshotIdentifier="snap-src-final-1", Engine="aurora-postgresql"
    )
    rds.modify_db_cluster(DBClusterIdentifier="snap-back", ManageMasterUserPassword=True, ApplyImmediately=True)
    backer.sync()
    assert run(pg_url, physical(backer, "snap-back"), "SELECT body FROM notes ORDER BY body") == [
        ("after the snapshot",),
        ("kept",),
    ]
