"""The endpoint map: globs to host[:port] or socket directories, and its settings from the environment."""

from __future__ import annotations

import pytest

from upskill_operator.config import Settings
from upskill_operator.endpoints import parse_target, resolve

AWS_HOST = "auth.cluster-abc123.us-east-1.rds.amazonaws.com"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("db.local", ("db.local", 5432)),
        ("db.local:6543", ("db.local", 6543)),
        ("127.0.0.1:15432", ("127.0.0.1", 15432)),
        ("[::1]:5433", ("::1", 5433)),
        ("[::1]", ("::1", 5432)),
        ("/tmp/pg-sock", ("/tmp/pg-sock", 5432)),
        ("/tmp/pg-sock:5433", ("/tmp/pg-sock", 5433)),
    ],
)
def test_targets(target: str, expected: tuple[str, int]) -> None:
    assert parse_target(target, 5432) == expected


def test_first_matching_glob_wins_and_unmatched_hosts_pass_through() -> None:
    mapping = {"*.cluster-ro-*.rds.amazonaws.com": "reader:1", "*.rds.amazonaws.com": "/run/pg:5433"}
    assert resolve(AWS_HOST, 5432, mapping) == ("/run/pg", 5433)
    assert resolve("auth.cluster-ro-abc.us-east-1.rds.amazonaws.com", 5432, mapping) == ("reader", 1)
    assert resolve("AUTH.Cluster-ABC.us-east-1.RDS.amazonaws.com.", 5432, mapping) == ("/run/pg", 5433)
    assert resolve("db.example.com", 5432, mapping) == ("db.example.com", 5432)
    assert resolve(AWS_HOST, 5432, Settings()) == (AWS_HOST, 5432)  # against AWS the map is empty


def test_settings_from_env() -> None:
    settings = Settings.from_env(
        {
            "UPSKILL_ENDPOINT_MAP": "*.cluster-*.rds.amazonaws.com=127.0.0.1:15432, *.rds.amazonaws.com=/run/pg",
            "UPSKILL_KIND_RESYNC_SECONDS": '{"UpskillDatabase": 900, "UpskillTable": 120}',
        }
    )
    assert list(settings.endpoint_map.items()) == [
        ("*.cluster-*.rds.amazonaws.com", "127.0.0.1:15432"),
        ("*.rds.amazonaws.com", "/run/pg"),
    ]
    assert resolve(AWS_HOST, 5432, settings) == ("127.0.0.1", 15432)
    assert settings.kind_resync_seconds == {"UpskillDatabase": 900.0, "UpskillTable": 120.0}
    assert Settings().kind_resync_seconds == {"UpskillDatabase": 1200.0}
    with pytest.raises(ValueError, match="greater than 0"):
        Settings.from_env({"UPSKILL_KIND_RESYNC_SECONDS": "UpskillDatabase=0"})
