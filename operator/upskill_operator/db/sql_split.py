"""Split a SQL file into statements, remembering where each one starts.

The runner sends one statement at a time so that any error, including the ones PostgreSQL
reports without a position (a unique violation in a data migration, say), can be pinned to a
file and line. The rules follow psql's own lexer: semicolons inside quotes, quoted identifiers,
dollar quotes and comments do not end a statement, nor do those inside a SQL-standard function
body (``CREATE FUNCTION ... BEGIN ATOMIC ... END``), where BEGIN/CASE ... END nest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Statement", "TransactionControlError", "line_of", "split_statements"]

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")
_WORD = re.compile(r"[A-Za-z_\x80-\uffff][A-Za-z0-9_$\x80-\uffff]*")
_TRANSACTION_CONTROL = frozenset({"begin", "commit", "rollback", "end", "start", "abort", "savepoint", "release"})
_ROUTINES = frozenset({"function", "procedure"})


class TransactionControlError(ValueError):
    """A file tried to manage its own transaction; the runner gives each file exactly one."""

    def __init__(self, line: int, word: str) -> None:
        super().__init__(f"{word.upper()} is not allowed: each migration file runs in exactly one transaction")
        self.line = line


@dataclass(frozen=True)
class Statement:
    text: str
    """The statement exactly as in the file (comments included), without its semicolon."""
    offset: int
    """Index of ``text`` in the file, so an error position maps back to a file line."""
    line: int
    """Line (1-based) of the statement's first keyword."""


def line_of(source: str, offset: int) -> int:
    """The 1-based line of character ``offset`` in ``source``."""
    return source.count("\n", 0, max(0, min(offset, len(source)))) + 1


class _Scanner:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0

    def skip_quoted(self, quote: str, backslashes: bool) -> None:
        """Move past a '...' or "..." token (doubled quotes escape; E'' strings also use backslash)."""
        src, i = self.src, self.pos + 1
        while i < len(src):
            char = src[i]
            if backslashes and char == "\\":
                i += 2
                continue
            if char == quote:
                if i + 1 < len(src) and src[i + 1] == quote:
                    i += 2
                    continue
                self.pos = i + 1
                return
            i += 1
        self.pos = len(src)

    def skip_block_comment(self) -> None:
        src, i, depth = self.src, self.pos + 2, 1
        while i < len(src) and depth:
            if src.startswith("/*", i):
                depth, i = depth + 1, i + 2
            elif src.startswith("*/", i):
                depth, i = depth - 1, i + 2
            else:
                i += 1
        self.pos = i

    def skip_line_comment(self) -> None:
        end = self.src.find("\n", self.pos)
        self.pos = len(self.src) if end < 0 else end + 1

    def try_dollar_quote(self) -> bool:
        match = _DOLLAR_TAG.match(self.src, self.pos)
        if not match:
            return False
        end = self.src.find(match.group(0), match.end())
        self.pos = len(self.src) if end < 0 else end + len(match.group(0))
        return True


def split_statements(source: str) -> list[Statement]:
    """The statements of ``source`` in order; empty ones (only comments or blanks) are dropped.

    Raises :class:`TransactionControlError` for BEGIN/COMMIT/ROLLBACK and friends at top level.
    """
    scan = _Scanner(source)
    statements: list[Statement] = []
    start = 0
    words: list[str] = []
    first_word_at = -1
    depth = 0
    src = source
    while scan.pos < len(src):
        char = src[scan.pos]
        if char == ";" and depth == 0:
            _emit(statements, source, start, scan.pos, first_word_at, words)
            scan.pos += 1
            start, words, first_word_at = scan.pos, [], -1
        elif char in "'\"":
            prefix = src[scan.pos - 1 : scan.pos].lower() if scan.pos else ""
            before = src[scan.pos - 2 : scan.pos - 1] if scan.pos > 1 else ""
            escapes = char == "'" and prefix == "e" and not (before.isalnum() or before == "_")
            scan.skip_quoted(char, escapes)
        elif src.startswith("--", scan.pos):
            scan.skip_line_comment()
        elif src.startswith("/*", scan.pos):
            scan.skip_block_comment()
        elif char == "$" and scan.try_dollar_quote():
            pass
        elif match := _WORD.match(src, scan.pos):
            word = match.group(0).lower()
            if first_word_at < 0:
                first_word_at = scan.pos
            if len(words) < 4:
                words.append(word)
            depth = _nesting(words, word, depth)
            scan.pos = match.end()
        else:
            scan.pos += 1
    _emit(statements, source, start, len(src), first_word_at, words)
    return statements


def _nesting(words: list[str], word: str, depth: int) -> int:
    """psql's rule: inside CREATE [OR REPLACE] FUNCTION|PROCEDURE, BEGIN and CASE open, END closes."""
    head = words[:4]
    routine = head[:1] == ["create"] and (
        (len(head) > 1 and head[1] in _ROUTINES)
        or (head[1:3] == ["or", "replace"] and len(head) > 3 and head[3] in _ROUTINES)
    )
    if not routine:
        return depth
    if word in ("begin", "case"):
        return depth + 1
    if word == "end" and depth > 0:
        return depth - 1
    return depth


def _emit(out: list[Statement], source: str, start: int, end: int, first_word_at: int, words: list[str]) -> None:
    if first_word_at < 0:
        return  # only blanks and comments
    line = line_of(source, first_word_at)
    if words and words[0] in _TRANSACTION_CONTROL:
        raise TransactionControlError(line, words[0])
    out.append(Statement(text=source[start:end], offset=start, line=line))
