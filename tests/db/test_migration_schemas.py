"""What the built-in sets create: BetterAuth's exact core schema, and a course schema that keeps its promises.

BETTERAUTH is derived by hand from BetterAuth's documentation ("Database > Core Schema") and its
Kysely migration generator for PostgreSQL (see the comment at the top of
migrations/betterauth/0001_core_schema.sql for the versions checked), not from our SQL file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from upskill_operator.db.migration_files import builtin_set
from upskill_operator.db.migrations import apply

TEXT, BOOL, TS = "text", "boolean", "timestamp with time zone"
NULL, NOT_NULL = "YES", "NO"

# table -> [(column, information_schema data_type, is_nullable)] in BetterAuth's column order.
BETTERAUTH: dict[str, list[tuple[str, str, str]]] = {
    "user": [
        ("id", TEXT, NOT_NULL),
        ("name", TEXT, NOT_NULL),
        ("email", TEXT, NOT_NULL),
        ("emailVerified", BOOL, NOT_NULL),
        ("image", TEXT, NULL),
        ("createdAt", TS, NOT_NULL),
        ("updatedAt", TS, NOT_NULL),
    ],
    "session": [
        ("id", TEXT, NOT_NULL),
        ("expiresAt", TS, NOT_NULL),
        ("token", TEXT, NOT_NULL),
        ("createdAt", TS, NOT_NULL),
        ("updatedAt", TS, NOT_NULL),
        ("ipAddress", TEXT, NULL),
        ("userAgent", TEXT, NULL),
        ("userId", TEXT, NOT_NULL),
    ],
    "account": [
        ("id", TEXT, NOT_NULL),
        ("accountId", TEXT, NOT_NULL),
        ("providerId", TEXT, NOT_NULL),
        ("userId", TEXT, NOT_NULL),
        ("accessToken", TEXT, NULL),
        ("refreshToken", TEXT, NULL),
        ("idToken", TEXT, NULL),
        ("accessTokenExpiresAt", TS, NULL),
        ("refreshTokenExpiresAt", TS, NULL),
        ("scope", TEXT, NULL),
        ("password", TEXT, NULL),
        ("createdAt", TS, NOT_NULL),
        ("updatedAt", TS, NOT_NULL),
    ],
    "verification": [
        ("id", TEXT, NOT_NULL),
        ("identifier", TEXT, NOT_NULL),
        ("value", TEXT, NOT_NULL),
        ("expiresAt", TS, NOT_NULL),
        ("createdAt", TS, NOT_NULL),
        ("updatedAt", TS, NOT_NULL),
    ],
}


@pytest.fixture
def conn(database: str) -> Iterator[psycopg.Connection[Any]]:
    apply(database, builtin_set("betterauth"))
    apply(database, builtin_set("course"))
    with psycopg.connect(database, autocommit=True) as connection:
        yield connection


def q(conn: psycopg.Connection[Any], query: str, *params: Any) -> list[tuple[Any, ...]]:
    cursor = conn.execute(query.encode(), params or None)
    return cursor.fetchall() if cursor.description else []


def test_betterauth_columns_match_names_types_and_nullability(conn: psycopg.Connection[Any]) -> None:
    for table, expected in BETTERAUTH.items():
        found = q(
            conn,
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
            table,
        )
        assert found == expected, table


def test_betterauth_keys_foreign_keys_and_indexes(conn: psycopg.Connection[Any]) -> None:
    constraints = q(
        conn,
        "SELECT tc.table_name, tc.constraint_type, kcu.column_name FROM information_schema.table_constraints tc"
        " JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)"
        " WHERE tc.table_name IN ('user', 'session', 'account', 'verification') ORDER BY 1, 2, 3",
    )
    assert constraints == [
        ("account", "FOREIGN KEY", "userId"),
        ("account", "PRIMARY KEY", "id"),
        ("session", "FOREIGN KEY", "userId"),
        ("session", "PRIMARY KEY", "id"),
        ("session", "UNIQUE", "token"),
        ("user", "PRIMARY KEY", "id"),
        ("user", "UNIQUE", "email"),
        ("verification", "PRIMARY KEY", "id"),
    ]
    references = q(
        conn,
        "SELECT conrelid::regclass::text, confrelid::regclass::text, confdeltype FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid::regclass::text IN ('session', 'account') ORDER BY 1",
    )
    assert references == [("account", '"user"', "c"), ("session", '"user"', "c")]  # c = ON DELETE CASCADE
    indexes = {r[0] for r in q(conn, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
    assert {"session_userId_idx", "account_userId_idx", "verification_identifier_idx"} <= indexes


def test_betterauth_rows_cascade_with_their_user(conn: psycopg.Connection[Any]) -> None:
    q(
        conn,
        """INSERT INTO "user" (id, name, email, "emailVerified") VALUES ('u1', 'Ada', 'ada@x.io', false)""",
    )
    q(
        conn,
        """INSERT INTO session (id, "expiresAt", token, "updatedAt", "userId")
           VALUES ('s1', now() + interval '1 day', 'tok', now(), 'u1')""",
    )
    with pytest.raises(psycopg.errors.UniqueViolation):
        q(conn, """INSERT INTO "user" (id, name, email, "emailVerified") VALUES ('u2', 'B', 'ada@x.io', true)""")
    q(conn, """DELETE FROM "user" WHERE id = 'u1'""")
    assert q(conn, "SELECT count(*) FROM session") == [(0,)]


def course_tree(conn: psycopg.Connection[Any]) -> tuple[Any, Any, Any]:
    course = q(conn, "INSERT INTO courses (slug, title) VALUES ('sql-101', 'SQL') RETURNING id")[0][0]
    lesson = q(conn, "INSERT INTO lessons (course_id, position, title) VALUES (%s, 0, 'Basics') RETURNING id", course)[
        0
    ][0]
    micro = q(
        conn,
        "INSERT INTO microlessons (lesson_id, course_id, position, title) VALUES (%s, %s, 0, 'SELECT') RETURNING id",
        lesson,
        course,
    )[0][0]
    return course, lesson, micro


def test_course_ordering_positions_are_unique_but_can_be_swapped(conn: psycopg.Connection[Any]) -> None:
    course, _, _ = course_tree(conn)
    q(conn, "INSERT INTO lessons (course_id, position, title) VALUES (%s, 1, 'Joins')", course)
    with pytest.raises(psycopg.errors.UniqueViolation):
        q(conn, "INSERT INTO lessons (course_id, position, title) VALUES (%s, 1, 'Dup')", course)
    with conn.transaction():
        q(conn, "SET CONSTRAINTS lessons_course_position_key DEFERRED")
        q(conn, "UPDATE lessons SET position = 1 - position WHERE course_id = %s", course)
    titles = q(conn, "SELECT title FROM lessons WHERE course_id = %s ORDER BY position", course)
    assert titles == [("Joins",), ("Basics",)]


def test_course_checks_refuse_bad_status_score_and_slug(conn: psycopg.Connection[Any]) -> None:
    course, _, micro = course_tree(conn)
    q(conn, "INSERT INTO enrollments (user_id, course_id) VALUES ('u1', %s)", course)
    insert = (
        "INSERT INTO progress (user_id, microlesson_id, course_id, status, score, started_at, completed_at)"
        " VALUES ('u1', %s, %s, %s, %s, now(), %s)"
    )
    for status, score, completed in (("done", None, None), ("completed", 101, "now"), ("completed", 90, None)):
        with pytest.raises(psycopg.errors.CheckViolation):
            q(conn, insert, micro, course, status, score, completed)
    with pytest.raises(psycopg.errors.CheckViolation):
        q(conn, "INSERT INTO courses (slug, title) VALUES ('Bad Slug', 'x')")
    q(conn, insert, micro, course, "completed", 87.5, "now")
    assert q(conn, "SELECT status, score::float FROM progress") == [("completed", 87.5)]


def test_progress_needs_an_enrollment_and_a_matching_course(conn: psycopg.Connection[Any]) -> None:
    course, _, micro = course_tree(conn)
    other = q(conn, "INSERT INTO courses (slug, title) VALUES ('other', 'Other') RETURNING id")[0][0]
    insert = "INSERT INTO progress (user_id, microlesson_id, course_id) VALUES ('u1', %s, %s)"
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        q(conn, insert, micro, course)  # not enrolled
    q(conn, "INSERT INTO enrollments (user_id, course_id) VALUES ('u1', %s), ('u1', %s)", course, other)
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        q(conn, insert, micro, other)  # the microlesson belongs to another course
    q(conn, insert, micro, course)
    q(conn, "DELETE FROM enrollments WHERE course_id = %s", course)
    assert q(conn, "SELECT count(*) FROM progress") == [(0,)]


def test_updated_at_moves_on_update_only_when_the_row_changes(conn: psycopg.Connection[Any]) -> None:
    course, _, _ = course_tree(conn)
    q(conn, "ALTER TABLE courses DISABLE TRIGGER courses_updated_at")
    q(conn, "UPDATE courses SET updated_at = '2000-01-01' WHERE id = %s", course)
    q(conn, "ALTER TABLE courses ENABLE TRIGGER courses_updated_at")
    q(conn, "UPDATE courses SET title = title WHERE id = %s", course)  # no change: kept
    assert q(conn, "SELECT extract(year FROM updated_at)::int FROM courses") == [(2000,)]
    q(conn, "UPDATE courses SET title = 'SQL basics' WHERE id = %s", course)
    assert q(conn, "SELECT updated_at > now() - interval '1 minute' FROM courses") == [(True,)]


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("SELECT * FROM lessons WHERE course_id = %s ORDER BY position", "lessons_course_position_key"),
        ("SELECT * FROM progress WHERE user_id = 'u1' AND course_id = %s", "progress_user_course_idx"),
    ],
    ids=["a course's lessons in order", "a user's progress in a course"],
)
def test_the_obvious_queries_are_index_scans(conn: psycopg.Connection[Any], query: str, index: str) -> None:
    course, _, _ = course_tree(conn)
    q(conn, "SET enable_seqscan = off")
    q(conn, "SET enable_bitmapscan = off")
    plan = "\n".join(r[0] for r in q(conn, f"EXPLAIN {query}", course))
    assert index in plan
    assert "Sort" not in plan  # the order comes from the index
