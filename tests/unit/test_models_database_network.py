"""UpskillDatabase network: subnets by id or by tag selector, exactly one; messages as admission gives them."""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.models.database import DatabaseSpec
from upskill_operator.models.validation import validate_spec

from unit.crd_support import DELETE, admission_errors, assert_refused, example, mutated

KIND = "UpskillDatabase"
AUTH = example(KIND, "auth-db")["spec"]
SELECTOR = {"tags": {"tier": "private"}, "vpcId": "vpc-0a1b2c3d4e5f60001"}


def test_selector_instead_of_ids() -> None:
    spec = mutated(AUTH, {"network.subnetIds": DELETE, "network.subnetSelector": SELECTOR})
    parsed = DatabaseSpec.model_validate(spec)
    assert parsed.network.subnet_selector is not None
    assert parsed.network.subnet_selector.tags == {"tier": "private"}
    assert validate_spec(KIND, spec) == []
    assert admission_errors(KIND, spec) == []


@pytest.mark.parametrize(
    ("changes", "expected", "admission"),
    [
        (
            {"network.subnetSelector": SELECTOR},
            ["spec.network: exactly one of subnetIds or subnetSelector must be set"],
            "cel",
        ),
        (
            {"network.subnetIds": DELETE},
            ["spec.network: exactly one of subnetIds or subnetSelector must be set"],
            "cel",
        ),
        (
            {"network.subnetIds": DELETE, "network.subnetSelector": {"tags": {}}},
            ["spec.network.subnetSelector.tags: must have at least 1 item (got 0)"],
            "schema",
        ),
        (
            {"network.subnetIds": DELETE, "network.subnetSelector": {"tags": {"a": "b"}, "vpcId": "vpc-x"}},
            ["spec.network.subnetSelector.vpcId: must be a VPC id (vpc-0a1b2c3d)"],
            "schema",
        ),
    ],
    ids=["both", "neither", "no-tags", "bad-vpc"],
)
def test_refused(changes: dict[str, Any], expected: list[str], admission: str) -> None:
    assert_refused(KIND, mutated(AUTH, changes), expected, admission)
