"""models/aurora.py agrees with the recorded DescribeDBEngineVersions and DescribeOrderableDBInstanceOptions answers.

The answers are checked against botocore's RDS model first, so a live recording can replace them as is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from upskill_operator.models import aurora
from upskill_operator.models.validation import validate_spec

DATA = Path(__file__).parents[1] / "data" / "aws"
VERSIONS = json.loads((DATA / "describe-db-engine-versions.aurora-postgresql.json").read_text())
ORDERABLE = json.loads((DATA / "describe-orderable-db-instance-options.aurora-postgresql.json").read_text())
RDS = botocore.session.get_session().get_service_model("rds")


@pytest.mark.parametrize(
    ("answer", "operation", "list_key", "shape"),
    [
        (VERSIONS, "DescribeDBEngineVersions", "DBEngineVersions", "DBEngineVersion"),
        (ORDERABLE, "DescribeOrderableDBInstanceOptions", "OrderableDBInstanceOptions", "OrderableDBInstanceOption"),
    ],
)
def test_recorded_answers_have_the_shape_boto3_returns(
    answer: dict[str, Any], operation: str, list_key: str, shape: str
) -> None:
    assert set(answer) <= set(RDS.operation_model(operation).output_shape.members)
    members = set(RDS.shape_for(shape).members)
    assert answer[list_key], "an empty answer proves nothing"
    for row in answer[list_key]:
        assert set(row) <= members, set(row) - members
        assert row["Engine"] == "aurora-postgresql"


def _available() -> list[dict[str, Any]]:
    return [v for v in VERSIONS["DBEngineVersions"] if v.get("Status", "available") == "available"]


def test_the_versions_are_those_aws_offers() -> None:
    offered = {v["EngineVersion"] for v in _available()}
    table = {f"{major}.{minor}" for major, minors in aurora.VERSIONS.items() for minor in minors}
    assert table == offered


def test_serverless_v2_is_where_db_serverless_is_orderable() -> None:
    serverless = {
        o["EngineVersion"] for o in ORDERABLE["OrderableDBInstanceOptions"] if o["DBInstanceClass"] == "db.serverless"
    }
    for version in (v["EngineVersion"] for v in _available()):
        assert aurora.supports_serverless_v2(version) is (version in serverless), version


def test_auto_pause_is_where_the_minimum_capacity_is_zero() -> None:
    for version in _available():
        features = version.get("ServerlessV2FeaturesSupport") or {}
        zero = features.get("MinCapacity") == 0
        assert aurora.supports_auto_pause(version["EngineVersion"]) is zero, version["EngineVersion"]


def test_the_instance_classes_are_those_orderable() -> None:
    orderable = {
        o["DBInstanceClass"]
        for o in ORDERABLE["OrderableDBInstanceOptions"]
        if o["EngineVersion"] == "16.4" and o["DBInstanceClass"] != aurora.SERVERLESS_CLASS
    }
    table = {f"{family}.{size}" for family, sizes in aurora.INSTANCE_CLASSES.items() for size in sizes}
    assert table == orderable


BASE = {
    "databaseName": "app",
    "network": {"subnetIds": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"]},
}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"engineVersion": "16.5", "capacity": {"serverless": {"maxACU": 4}}},
            "spec.engineVersion: Aurora PostgreSQL does not offer 16.5; "
            "16 offers 16.1, 16.2, 16.3, 16.4, 16.6, 16.8, 16.9",
        ),
        (
            {"engineVersion": "12.22", "capacity": {"serverless": {"maxACU": 4}}},
            "spec.engineVersion: Aurora PostgreSQL does not offer 12.22; the majors offered are 13, 14, 15, 16, 17",
        ),
        (
            {"engineVersion": "16.4", "capacity": {"provisioned": {"instanceClass": "db.t4g.small"}}},
            "spec.capacity.provisioned.instanceClass: Aurora PostgreSQL does not offer db.t4g.small; "
            "db.t4g offers db.t4g.medium, db.t4g.large",
        ),
        (
            {"engineVersion": "16.4", "capacity": {"provisioned": {"instanceClass": "db.m5.large"}}},
            "spec.capacity.provisioned.instanceClass: Aurora PostgreSQL does not offer db.m5.large; the families "
            "offered are db.t3.*, db.t4g.*, db.r5.*, db.r6g.*, db.r6gd.*, db.r6i.*, db.r6id.*, db.r7g.*, db.r7i.*, "
            "db.r8g.*, db.x2g.*",
        ),
    ],
    ids=["minor-not-offered", "major-not-offered", "class-size", "class-family"],
)
def test_what_aws_does_not_offer_is_refused_naming_the_choices(spec: dict[str, Any], expected: str) -> None:
    assert validate_spec("UpskillDatabase", {**BASE, **spec}) == [expected]


def test_serverless_v2_below_its_first_minor_is_refused() -> None:
    assert aurora.serverless_problem("16.0") == (
        "Serverless v2 needs engineVersion 13.6, 14.3, 15.2, 16.1, 17.4 or later (got 16.0)"
    )
    assert aurora.serverless_problem("16.1") is None


RETIRED = {**BASE, "engineVersion": "16.0", "capacity": {"provisioned": {"instanceClass": "db.r4.large"}}}


@pytest.mark.parametrize(
    ("status", "refused"),
    [
        ({}, ["engineVersion", "capacity.provisioned.instanceClass"]),
        ({"engineVersion": "16.0", "capacity": {"instanceClass": "db.r4.large"}}, []),
        ({"engineVersion": "16.4.2", "capacity": {"instanceClass": "db.r4.large"}}, []),  # AWS upgraded the minor
        (
            {"engineVersion": "15.4", "capacity": {"instanceClass": "db.r5.large"}},
            ["engineVersion", "capacity.provisioned.instanceClass"],
        ),
    ],
    ids=["not-running", "running", "upgraded-by-aws", "running-something-else"],
)
def test_what_already_runs_is_not_refused_for_no_longer_being_offered(
    status: dict[str, Any], refused: list[str]
) -> None:
    """AWS retires minors and classes that clusters keep running; such a resource must not turn Terminal."""
    lines = validate_spec("UpskillDatabase", RETIRED, status=status)
    assert [line.split(":")[0].removeprefix("spec.") for line in lines] == refused


def test_covered_by() -> None:
    assert aurora.covered_by("16.1", "16.4")
    assert aurora.covered_by("16.4", "16.4.2")
    assert not aurora.covered_by("16.6", "16.4")
    assert not aurora.covered_by("16.4", "17.4")
    assert not aurora.covered_by("16.4", None)
    assert not aurora.covered_by("16.4", "sixteen")
