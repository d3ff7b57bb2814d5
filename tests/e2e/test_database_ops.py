"""UpskillDatabase migrations and probes end to end, with PostgreSQL behind the emulated clusters.

The shipped examples (auth-db with ``migrations: {set: betterauth}``, course-db with
``{set: course}`` and a read-only proxy endpoint) are applied to the real operator. The sandbox's
ClusterBacker gives every emulated cluster a real database on the test PostgreSQL, and
``endpoint_map`` sends the AWS endpoint names there, as in ``make sandbox``. Each test gives its
cluster a distinct ``databaseName`` so clusters never share a database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import Bed, condition, wait_for
from e2e.db_support import backed_operator, db_doc, get, ready
from e2e.planes import PLANES

pytestmark = pytest.mark.e2e

PROBE_APP = "upskill-operator-probe"


@pytest.fixture
def operator(bed: Bed, pg_url: str) -> Iterator[OperatorThread]:
    """The operator with the database kind's resync short, fast probe rounds, and clusters backed by PostgreSQL."""
    fast = {"kind_resync_seconds": {}, "probe_interval_seconds": 0.2, "probe_status_seconds": 0.01}
    with backed_operator(bed, pg_url, **fast) as running:
        yield running


def example(which: str, **spec: Any) -> tuple[str, str, dict[str, Any]]:
    """(resource name, database name, document) of a shipped example with its migrations and probe kept."""
    name = f"{which}-{uuid.uuid4().hex[:6]}"
    dbname = f"{which}_{uuid.uuid4().hex[:6]}"
    sets = {"auth": "betterauth", "course": "course"}
    spec = {"databaseName": dbname, "migrations": {"set": sets[which]}, "probe": {"sloMilliseconds": 1000}, **spec}
    return name, dbname, db_doc(which, name, **spec)


def tables(pg_url: str, dbname: str) -> set[str]:
    with psycopg.connect(make_conninfo(pg_url, dbname=dbname)) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        return {r[0] for r in rows.fetchall()}


def probe_connections(pg_url: str, dbname: str) -> int:
    """Probe sessions on the primary and on the standby (readers and read-only endpoints land there)."""
    backends = PLANES[pg_url].backends
    assert backends is not None
    total = 0
    for standby in (False, True) if backends.standby else (False,):
        with psycopg.connect(backends.admin_conninfo(standby=standby), autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = %s",
                (PROBE_APP, dbname),
            ).fetchone()
            total += int(row[0]) if row else 0
    return total


def cond(bed: Bed, name: str, ctype: str) -> dict[str, Any]:
    return condition(get(bed, name), ctype)


@pytest.mark.parametrize(
    ("which", "expected", "endpoints"),
    [
        ("auth", {"user", "session", "account", "verification"}, {"proxy"}),
        ("course", {"courses", "lessons", "microlessons", "enrollments", "progress"}, {"proxy", "proxyReadOnly"}),
    ],
)
def test_examples_get_their_schema_and_report_probe_latency(
    bed: Bed, operator: OperatorThread, pg_url: str, which: str, expected: set[str], endpoints: set[str]
) -> None:
    name, dbname, doc = example(which)
    bed.apply(doc)
    ready(bed, name)

    # A migration attempt that finds the database not ready yet backs off (1, 2, 4, 8, 16, 32 s at this bed's
    # 0.5 s requeue); a loaded CI machine once needed more than 30 s here, and a loaded dev machine more than 60 s.
    try:
        applied = wait_for(lambda: (c := cond(bed, name, "MigrationsApplied")).get("status") == "True" and c, 120)
    except AssertionError as exc:  # say what the status showed, so a slow run can be read afterwards
        raise AssertionError(
            f"{exc}; conditions: {(get(bed, name) or {}).get('status', {}).get('conditions')}"
        ) from exc
    assert applied["reason"] == "Applied"
    status = get(bed, name)["status"]  # type: ignore[index]
    migrations = {"auth": "0002_app_role", "course": "0003_app_roles"}
    counts = {"auth": 2, "course": 3}
    assert status["migrations"] == {"applied": counts[which], "latest": migrations[which]}
    assert expected <= tables(pg_url, dbname)

    def probed(c: dict[str, Any]) -> set[str]:
        return {part.split(":")[0] for part in str(c.get("message") or "").split(" <= ")[0].split("; ")}

    # Ready may come before the probe loop's next round sees the reader endpoint; the condition names it then.
    wait_for(
        lambda: (c := cond(bed, name, "LatencyWithinSLO")).get("status") == "True" and probed(c) == endpoints,
        30,
        f"probed on {sorted(endpoints)}",
    )
    latency = get(bed, name)["status"]["latency"]  # type: ignore[index]
    assert 0 < latency["p50Ms"] <= latency["p99Ms"] <= 1000
    wanted = len(endpoints)  # one pooled connection per endpoint
    wait_for(lambda: probe_connections(pg_url, dbname) == wanted, 15, f"{wanted} probe sessions")

    bed.delete("upskilldatabases", name)
    wait_for(lambda: get(bed, name) is None, 60, "deleted")
    wait_for(lambda: probe_connections(pg_url, dbname) == 0, 10, "probe connections closed")


def test_a_broken_configmap_migration_is_reported_with_file_and_line_then_fixed(
    bed: Bed, operator: OperatorThread, pg_url: str
) -> None:
    name, dbname, doc = example("auth")
    config_map = f"{name}-sql"
    bed.kube.apply_manifest(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": config_map, "namespace": "e2e"},
            "data": {
                "0001_ok.sql": "CREATE TABLE kept (id int);\n",
                "0002_bad.sql": "SELECT 1;\nSELECT nope FROM kept;\n",
            },
        }
    )
    doc["spec"]["migrations"] = {"configMapName": config_map}
    bed.apply(doc)
    ready(bed, name)

    failed = wait_for(lambda: (c := cond(bed, name, "MigrationsApplied")).get("status") == "False" and c, 30, "failed")
    assert failed["reason"] == "MigrationFailed"
    assert f"ConfigMap e2e/{config_map}/0002_bad.sql:2: 42703" in failed["message"]
    assert tables(pg_url, dbname) == {"kept", "schema_migrations"}  # 0001 stays, 0002 left nothing
    with psycopg.connect(make_conninfo(pg_url, dbname=dbname)) as conn:
        assert conn.execute("SELECT version FROM schema_migrations").fetchall() == [("0001",)]

    bed.kube.apply_manifest(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": config_map, "namespace": "e2e"},
            "data": {"0002_bad.sql": "SELECT 1;\nSELECT id FROM kept;\n"},
        }
    )
    fixed = wait_for(lambda: (c := cond(bed, name, "MigrationsApplied")).get("status") == "True" and c, 30, "fixed")
    assert "2 of set configmap/" in fixed["message"]
    bed.delete("upskilldatabases", name)
    wait_for(lambda: get(bed, name) is None, 60, "deleted")
