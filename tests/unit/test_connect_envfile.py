"""The env file writer: values read back as written (Node's dotenv parser when node is here), 0600, atomic."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from upskill_operator.commands import connect_envfile
from upskill_operator.commands.connect_envfile import HEADER, changed_keys, quote, render, write_env_file

AWKWARD = {
    "URL": "postgresql://u:p%40ss$word@h:5432/db?sslmode=verify-full&sslrootcert=/tmp/ca.pem",
    "DOLLAR": "a$HOME${PATH}b",
    "JSON": '[{"name":"byUser","partitionKey":"userId"}]',
    "SINGLE": "it's",
    "BOTH": 'it\'s "quoted"',
    "HASH": "a #not a comment",
    "NEWLINE": "line1\nline2",
    "EMPTY": "",
    "SPACES": "  padded  ",
}


def test_single_quotes_by_default_so_nothing_expands() -> None:
    assert quote("a$B") == "'a$B'"
    assert quote("it's") == "`it's`"
    assert quote("x\ny") == '"x\\ny"'


def test_a_value_dotenv_cannot_carry_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot carry"):
        quote("'`\"\n")


def test_a_bad_name_is_refused() -> None:
    with pytest.raises(ValueError, match="not an environment variable name"):
        render({"BAD-NAME": "x"})


def test_node_reads_back_every_value(tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    path = tmp_path / ".env.local"
    write_env_file(path, AWKWARD)
    script = (
        "console.log(JSON.stringify(require('util').parseEnv(require('fs').readFileSync(process.argv[1], 'utf8'))))"
    )
    done = subprocess.run(["node", "-e", script, str(path)], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == AWKWARD


def test_written_0600_with_the_header_even_under_a_loose_umask(tmp_path: Path) -> None:
    path = tmp_path / "sub" / ".env.local"
    old = os.umask(0)
    try:
        write_env_file(path, {"A": "1"})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == HEADER + "A='1'\n"


def test_a_rewrite_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / ".env.local"
    write_env_file(path, {"A": "1"})
    inode = path.stat().st_ino
    write_env_file(path, {"A": "2"})
    assert path.read_text().endswith("A='2'\n")
    assert path.stat().st_ino != inode, "a new file renamed over the old one, not written in place"
    assert [p.name for p in tmp_path.iterdir()] == [".env.local"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / ".env.local"
    write_env_file(path, {"A": "1"})

    def broken(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(connect_envfile.os, "fsync", broken)
    with pytest.raises(OSError, match="disk full"):
        write_env_file(path, {"A": "2"})
    assert path.read_text().endswith("A='1'\n")
    assert [p.name for p in tmp_path.iterdir()] == [".env.local"]


def test_changed_keys_names_added_removed_and_changed() -> None:
    assert changed_keys({"A": "1", "B": "2", "C": "3"}, {"A": "1", "B": "x", "D": "4"}) == ["B", "C", "D"]
