"""``Settings.endpoint_map_file``: consulted before ``endpoint_map``, re-read when it changes, missing = empty."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from upskill_operator.config import Settings
from upskill_operator.endpoints import map_file_entries, resolve

WRITER = "db.cluster-abc.eu-west-1.rds.amazonaws.com"
READER = "db.cluster-ro-abc.eu-west-1.rds.amazonaws.com"


def write(path: Path, entries: dict[str, str], stamp: int) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries))
    os.utime(tmp, ns=(stamp, stamp))
    tmp.replace(path)


def test_the_file_comes_before_the_map_and_follows_its_changes(tmp_path: Path) -> None:
    path = tmp_path / "map.json"
    settings = Settings(endpoint_map_file=str(path), endpoint_map={"*.rds.amazonaws.com": "/run/pg:5433"})
    assert resolve(WRITER, 5432, settings) == ("/run/pg", 5433)  # no file yet: the map alone
    write(path, {"other.example": "127.0.0.1:40009"}, 1_000_000_000)
    assert resolve(WRITER, 5432, settings) == ("/run/pg", 5433)
    write(path, {WRITER: "127.0.0.1:40001", "*.cluster-ro-*": "127.0.0.1:40002"}, 2_000_000_000)
    assert resolve(WRITER, 5432, settings) == ("127.0.0.1", 40001)
    assert resolve(READER.upper(), 5432, settings) == ("127.0.0.1", 40002)
    assert resolve("other.example", 5432, settings) == ("other.example", 5432)
    write(path, {}, 3_000_000_000)
    assert resolve(WRITER, 5432, settings) == ("/run/pg", 5433)
    path.unlink()
    assert map_file_entries(str(path)) == {}


def test_a_file_that_is_not_an_object_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "map.json"
    path.write_text("[]")
    with pytest.raises(ValueError, match="JSON object"):
        map_file_entries(str(path))
