"""The migration runner against a real PostgreSQL: order, history, locking, checksums, rollback."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from upskill_operator.db import migrations
from upskill_operator.db.migration_files import MigrationSet, MigrationSetError, builtin_set, load_mapping
from upskill_operator.db.migrations import (
    AppliedMigration,
    MigrationConflictError,
    MigrationFailedError,
    apply,
    plan,
)


def rows(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query.encode(), params or None).fetchall()


def tables(url: str) -> set[str]:
    found = rows(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
    return {r[0] for r in found}


def history(url: str, set_name: str) -> list[tuple[str, str]]:
    return [
        (r[0], r[1])
        for r in rows(url, "SELECT version, name FROM schema_migrations WHERE migration_set = %s ORDER BY 1", set_name)
    ]


def test_both_builtin_sets_apply_cleanly_into_one_database(database: str) -> None:
    seen: list[AppliedMigration] = []
    auth = apply(database, builtin_set("betterauth"), progress=seen.append)
    course = apply(database, builtin_set("course"), progress=seen.append)

    assert [a.name for a in auth.applied_now] == ["0001_core_schema", "0002_app_role"]
    assert [a.name for a in course.applied_now] == ["0001_courses", "0002_enrollments_progress", "0003_app_roles"]
    assert (course.applied_total, course.latest) == (3, "0003_app_roles")
    names = ["0001_core_schema", "0002_app_role", "0001_courses", "0002_enrollments_progress", "0003_app_roles"]
    assert [s.name for s in seen] == names
    assert all(s.duration_seconds > 0 for s in seen)
    assert {"user", "session", "account", "verification"} <= tables(database)
    assert {"courses", "lessons", "microlessons", "enrollments", "progress"} <= tables(database)
    assert history(database, "course") == [
        ("0001", "0001_courses"),
        ("0002", "0002_enrollments_progress"),
        ("0003", "0003_app_roles"),
    ]
    recorded = rows(database, "SELECT checksum, duration_ms, applied_at FROM schema_migrations")
    assert all(len(r[0]) == 64 and r[1] > 0 and r[2] is not None for r in recorded)


def test_rerunning_is_a_no_op(database: str) -> None:
    first = apply(database, builtin_set("course"))
    stamps = rows(database, "SELECT version, applied_at FROM schema_migrations ORDER BY 1")
    second = apply(database, builtin_set("course"))

    assert len(first.applied_now) == 3
    assert second.applied_now == ()
    assert (second.applied_before, second.latest) == (3, "0003_app_roles")
    assert rows(database, "SELECT version, applied_at FROM schema_migrations ORDER BY 1") == stamps


def test_dry_run_lists_pending_files_and_writes_nothing(database: str) -> None:
    before = plan(database, builtin_set("course"))
    assert [m.name for m in before.pending] == ["0001_courses", "0002_enrollments_progress", "0003_app_roles"]
    assert "schema_migrations" not in tables(database)  # a dry run does not even create the history

    apply(database, load_mapping("course", {"0001_courses.sql": builtin_set("course").migrations[0].sql}))
    after = plan(database, builtin_set("course"))
    assert [a.name for a in after.applied] == ["0001_courses"]
    assert [m.name for m in after.pending] == ["0002_enrollments_progress", "0003_app_roles"]


def slow_set(marker: str) -> MigrationSet:
    """Three files; the first holds its transaction long enough for a second runner to arrive."""
    return load_mapping(
        "race",
        {
            "0001_first.sql": f"SELECT pg_sleep(0.5); CREATE TABLE race_a (id int); -- {marker}",
            "0002_second.sql": "CREATE TABLE race_b (id int);",
            "0003_third.sql": "INSERT INTO race_a VALUES (1);",
        },
    )


def test_two_concurrent_runners_apply_each_migration_exactly_once(database: str) -> None:
    barrier = threading.Barrier(2)
    reports: list[migrations.MigrationReport] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            reports.append(apply(database, slow_set("same file")))
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert sorted(len(r.applied_now) for r in reports) == [0, 3]  # the second waited, then found nothing to do
    assert history(database, "race") == [("0001", "0001_first"), ("0002", "0002_second"), ("0003", "0003_third")]
    assert rows(database, "SELECT count(*) FROM race_a") == [(1,)]


def test_a_changed_applied_file_is_refused_naming_the_file(database: str) -> None:
    apply(database, load_mapping("s", {"0001_init.sql": "CREATE TABLE t (id int);"}, origin="cm/app-sql"))
    tampered = load_mapping(
        "s",
        {"0001_init.sql": "CREATE TABLE t (id bigint);", "0002_more.sql": "CREATE TABLE u (id int);"},
        origin="cm/app-sql",
    )

    with pytest.raises(MigrationConflictError, match=r"cm/app-sql/0001_init\.sql was changed") as caught:
        apply(database, tampered)
    assert caught.value.reason == "MigrationChecksumMismatch"
    assert "u" not in tables(database)  # nothing at all ran
    with pytest.raises(MigrationConflictError):
        plan(database, tampered)


def test_line_endings_do_not_count_as_a_change(database: str) -> None:
    apply(database, load_mapping("s", {"0001_init.sql": "CREATE TABLE t (\n id int\n);\n"}))
    again = apply(database, load_mapping("s", {"0001_init.sql": "CREATE TABLE t (\r\n id int\r\n);\r\n"}))
    assert again.applied_now == ()


def test_missing_and_out_of_order_files_are_refused(database: str) -> None:
    apply(database, load_mapping("s", {"0001_a.sql": "SELECT 1;", "0003_c.sql": "SELECT 3;"}))

    with pytest.raises(MigrationConflictError, match="0003_c is recorded") as missing:
        apply(database, load_mapping("s", {"0001_a.sql": "SELECT 1;"}))
    assert missing.value.reason == "MigrationMissing"
    with pytest.raises(MigrationConflictError, match=r"0002_b\.sql is older than") as early:
        apply(
            database,
            load_mapping("s", {"0001_a.sql": "SELECT 1;", "0002_b.sql": "SELECT 2;", "0003_c.sql": "SELECT 3;"}),
        )
    assert early.value.reason == "MigrationOutOfOrder"


BROKEN = """\
-- creates a table, then fails on line 6
CREATE TABLE half_done (id int);
INSERT INTO half_done VALUES (1);

SELECT id
  FROM no_such_table;
"""


def test_a_failing_file_rolls_back_completely_and_names_file_and_line(database: str) -> None:
    broken = load_mapping(
        "s",
        {
            "0001_ok.sql": "CREATE TABLE kept (id int);",
            "0002_broken.sql": BROKEN,
            "0003_never.sql": "CREATE TABLE never (id int);",
        },
        origin="cm/sql",
    )
    with pytest.raises(MigrationFailedError) as caught:
        apply(database, broken)

    error = caught.value
    assert (error.source, error.line, error.sqlstate) == ("cm/sql/0002_broken.sql", 6, "42P01")
    assert str(error).startswith('cm/sql/0002_broken.sql:6: 42P01 relation "no_such_table" does not exist')
    assert error.reason == "MigrationFailed"
    assert "kept" in tables(database)  # the earlier version stays
    assert {"half_done", "never"}.isdisjoint(tables(database))  # the failing file left nothing behind
    assert history(database, "s") == [("0001", "0001_ok")]


def test_an_error_without_a_position_points_at_its_statement(database: str) -> None:
    sql = "CREATE TABLE u (id int PRIMARY KEY);\nINSERT INTO u VALUES (1);\n\n  INSERT INTO u\n  VALUES (1);\n"
    with pytest.raises(MigrationFailedError, match=r"^f/0001_dup\.sql:4: 23505 duplicate key") as caught:
        apply(database, load_mapping("s", {"0001_dup.sql": sql}, origin="f"))
    assert caught.value.line == 4
    assert "u" not in tables(database)


def test_an_error_inside_a_function_body_points_into_the_body(database: str) -> None:
    sql = "SELECT 1;\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1 +;\nEND;\n$$;\n"
    with pytest.raises(MigrationFailedError) as caught:
        apply(database, load_mapping("s", {"0001_fn.sql": sql}))
    assert caught.value.line == 4


def test_a_file_may_not_manage_its_own_transaction(database: str) -> None:
    with pytest.raises(MigrationFailedError, match=r"0001_tx\.sql:2: COMMIT is not allowed"):
        apply(database, load_mapping("s", {"0001_tx.sql": "CREATE TABLE a (id int);\nCOMMIT;\n"}))
    assert "a" not in tables(database)


def test_percent_signs_and_dollar_quotes_reach_the_server_verbatim(database: str) -> None:
    sql = "CREATE TABLE p (v text);\nINSERT INTO p VALUES ('50%s; not a split'), ($x$ a;b $x$);\n"
    apply(database, load_mapping("s", {"0001_p.sql": sql}))
    assert rows(database, "SELECT v FROM p ORDER BY v") == [(" a;b ",), ("50%s; not a split",)]


def test_badly_named_and_duplicate_files_are_refused() -> None:
    with pytest.raises(MigrationSetError, match=r"NNNN_name\.sql"):
        load_mapping("s", {"init.sql": "SELECT 1;"})
    with pytest.raises(MigrationSetError, match="share version 0001"):
        load_mapping("s", {"0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"})
    with pytest.raises(MigrationSetError, match="unknown migration set"):
        builtin_set("nope")
    assert [m.name for m in load_mapping("s", {"0010_b.sql": "", "0002_a.sql": "", "README": ""}).migrations] == [
        "0002_a",
        "0010_b",
    ]
