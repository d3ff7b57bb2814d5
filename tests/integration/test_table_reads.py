"""An UpskillTable's reads with the deep-read memory on, as the operator wires it, against a moto server.

One adapter lives across passes (as in the operator), a deep read every EVERY passes and its memory
on a clock the test moves (the backstop for late passes):
creation takes four calls, a steady-state resync one DescribeTable, and drift in a field only the
deep reads see is repaired on the first pass once the deep read is due, never later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from upskill_operator.adapters.shared.read_memory import Cadence, Memory
from upskill_operator.adapters.table.table import TableAdapter
from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.kms import Kms
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.outcome import State

from integration.conftest import CallCounter
from integration.table_driver import PREFIX, TABLE, Driver, base_spec

EVERY = 4
"""A deep read every fourth pass (``deep_read_every`` 4)."""
LATEST = 100.0
DESCRIBE = ("dynamodb", "DescribeTable")
DEEP_READS = [
    ("dynamodb", "DescribeTimeToLive"),
    ("dynamodb", "DescribeContinuousBackups"),
    ("dynamodb", "ListTagsOfResource"),
]


@dataclass
class RememberingDriver(Driver):
    """One adapter for every pass, its memory on ``now``."""

    now: list[float] = field(default_factory=lambda: [0.0])

    def __post_init__(self) -> None:
        self.adapter = TableAdapter(self.dynamodb, self.kms, PREFIX, deep_reads=Cadence(LATEST, EVERY - 1))
        self.adapter.reads = Memory(LATEST, clock=lambda: self.now[0], max_uses=EVERY - 1)

    @property
    def engine(self) -> Engine:
        return Engine([self.adapter])

    def later(self, seconds: float) -> RememberingDriver:
        self.now[0] += seconds
        return self


@pytest.fixture
def driver(dynamodb: DynamoDB, kms: Kms, kms_key: str) -> RememberingDriver:
    return RememberingDriver(dynamodb, kms, base_spec(ttlAttribute="expiresAt", tags={"team": "growth"}))


def ready(driver: Driver) -> None:
    outcome = driver.reconcile()
    assert (outcome.state, outcome.reason) == (State.READY, "Available"), outcome.message


def test_create_to_ready_takes_four_calls_and_leaves_every_field_set(
    driver: RememberingDriver, calls: CallCounter, boto_dynamodb: Any
) -> None:
    ready(driver)

    assert calls.calls == [
        DESCRIBE,  # absent
        ("dynamodb", "CreateTable"),  # tags included; its answer stands in for the next DescribeTable
        ("dynamodb", "UpdateTimeToLive"),  # its answer is the TTL state: not read back
        ("dynamodb", "UpdateContinuousBackups"),  # its answer is the backups state: not read again
    ]  # and the pass's table answer stands in for the confirming DescribeTable
    ttl = boto_dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiresAt")
    backups = boto_dynamodb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    arn = boto_dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    tags = {t["Key"]: t["Value"] for t in boto_dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]}
    assert tags["team"] == "growth"


def test_steady_state_is_one_read_until_the_deep_read_is_due(driver: RememberingDriver, calls: CallCounter) -> None:
    ready(driver)
    ready(driver)  # creation used some of the memory: start counting from a deep read
    while calls.calls[-1] == DESCRIBE:
        ready(driver)
    calls.clear()
    for _ in range(EVERY - 1):
        ready(driver)
    assert calls.calls == [DESCRIBE] * (EVERY - 1)

    calls.clear()
    ready(driver)  # the EVERY-th pass after the last deep read
    assert calls.calls == [DESCRIBE, *DEEP_READS]
    assert calls.writes() == []


def test_a_late_pass_makes_the_deep_reads(driver: RememberingDriver, calls: CallCounter) -> None:
    ready(driver)
    calls.clear()
    ready(driver.later(LATEST))
    assert calls.calls == [DESCRIBE, *DEEP_READS]


def test_drift_only_deep_reads_see_is_repaired_once_they_are_due(
    driver: RememberingDriver, calls: CallCounter, boto_dynamodb: Any
) -> None:
    ready(driver)
    boto_dynamodb.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expiresAt"}
    )
    boto_dynamodb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    arn = boto_dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    boto_dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "someone-else"}])

    calls.clear()
    passes = 0
    while not calls.writes():
        ready(driver)
        passes += 1
    assert 1 <= passes <= EVERY
    assert calls.calls[: passes - 1] == [DESCRIBE] * (passes - 1)  # DescribeTable shows nothing of it
    assert sorted(calls.writes()) == [
        ("dynamodb", "TagResource"),
        ("dynamodb", "UpdateContinuousBackups"),
        ("dynamodb", "UpdateTimeToLive"),
    ]
    ttl = boto_dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    backups = boto_dynamodb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    tags = {t["Key"]: t["Value"] for t in boto_dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]}
    assert tags["team"] == "growth"


def test_a_change_describe_table_shows_makes_every_read_at_once(
    driver: RememberingDriver, calls: CallCounter, boto_dynamodb: Any
) -> None:
    ready(driver)
    boto_dynamodb.update_table(TableName=TABLE, DeletionProtectionEnabled=True)
    boto_dynamodb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    calls.clear()

    ready(driver)  # long before the deep read is due

    assert calls.calls[:4] == [DESCRIBE, *DEEP_READS]
    assert sorted(calls.writes()) == [("dynamodb", "UpdateContinuousBackups"), ("dynamodb", "UpdateTable")]
    assert boto_dynamodb.describe_table(TableName=TABLE)["Table"]["DeletionProtectionEnabled"] is False
    backups = boto_dynamodb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_a_spec_change_makes_every_read(driver: RememberingDriver, calls: CallCounter, boto_dynamodb: Any) -> None:
    ready(driver)
    boto_dynamodb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    calls.clear()

    ready(driver.change(tags={"team": "growth", "tier": "gold"}))

    assert calls.calls[:4] == [DESCRIBE, *DEEP_READS]
    assert sorted(calls.writes()) == [("dynamodb", "TagResource"), ("dynamodb", "UpdateContinuousBackups")]


def test_memory_off_reads_everything_every_pass(dynamodb: DynamoDB, kms: Kms, kms_key: str, calls: CallCounter) -> None:
    adapter = TableAdapter(dynamodb, kms, PREFIX)  # deep_read_every 1 wires 0.5 resyncs; 0 s is the floor
    driver = Driver(dynamodb, kms, base_spec())
    engine = Engine([adapter])
    driver.status.update(engine.reconcile(driver.target()).outputs)
    calls.clear()
    assert engine.reconcile(driver.target()).state is State.READY
    assert calls.calls == [DESCRIBE, *DEEP_READS]
