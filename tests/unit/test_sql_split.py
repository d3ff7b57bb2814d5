"""Splitting migration files into statements: psql's rules, with the line each statement starts on."""

from __future__ import annotations

import pytest

from upskill_operator.db.sql_split import TransactionControlError, line_of, split_statements


def texts(source: str) -> list[str]:
    return [s.text.strip() for s in split_statements(source)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("SELECT 1; SELECT 2", ["SELECT 1", "SELECT 2"], id="plain"),
        pytest.param("SELECT ';' ; SELECT 'it''s;'", ["SELECT ';'", "SELECT 'it''s;'"], id="quoted-semicolons"),
        pytest.param("SELECT E'a\\';b'; SELECT 2", ["SELECT E'a\\';b'", "SELECT 2"], id="escape-string"),
        pytest.param('SELECT 1 AS ";x"; SELECT 2', ['SELECT 1 AS ";x"', "SELECT 2"], id="quoted-identifier"),
        pytest.param("SELECT $$a;b$$; SELECT $t$ $$; $t$", ["SELECT $$a;b$$", "SELECT $t$ $$; $t$"], id="dollar"),
        pytest.param("SELECT 1 -- c;\n; /* x; /* nested; */ y; */ SELECT 2", None, id="comments"),
        pytest.param("-- only a comment;\n\n;;  ", [], id="empty-statements-dropped"),
        pytest.param("SELECT a$b$c FROM t; SELECT 2", ["SELECT a$b$c FROM t", "SELECT 2"], id="dollar-in-identifier"),
        pytest.param("SELECT $1; SELECT 2", ["SELECT $1", "SELECT 2"], id="parameter-is-not-a-quote"),
    ],
)
def test_semicolons_split_only_at_top_level(source: str, expected: list[str] | None) -> None:
    if expected is None:
        assert len(split_statements(source)) == 2
        assert split_statements(source)[1].text.strip().endswith("SELECT 2")
    else:
        assert texts(source) == expected


def test_sql_standard_function_bodies_stay_whole() -> None:
    source = (
        "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\n"
        "BEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  SELECT 2;\nEND;\n"
        "CREATE TABLE t (id int);"
    )
    statements = split_statements(source)
    assert len(statements) == 2
    assert statements[0].text.rstrip().endswith("END")
    assert statements[1].line == 6


def test_statements_know_their_offset_and_first_keyword_line() -> None:
    source = "-- header\n\nCREATE TABLE a (id int);\n\n  /* note */\n  INSERT INTO a\n  VALUES (1);\n"
    first, second = split_statements(source)
    assert (first.line, second.line) == (3, 6)
    assert source[second.offset :].startswith(second.text)
    assert line_of(source, source.index("VALUES")) == 7


@pytest.mark.parametrize("word", ["BEGIN", "commit", "ROLLBACK", "END", "START TRANSACTION", "savepoint s"])
def test_transaction_control_at_top_level_is_refused_with_its_line(word: str) -> None:
    with pytest.raises(TransactionControlError) as caught:
        split_statements(f"SELECT 1;\n{word};\n")
    assert caught.value.line == 2
    assert word.split()[0].upper() in str(caught.value)


def test_begin_inside_a_plpgsql_body_is_fine() -> None:
    source = "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN NEW;\nEND;\n$$;"
    assert len(split_statements(source)) == 1
