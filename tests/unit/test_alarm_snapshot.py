"""The shared alarm read: one DescribeAlarms per namespace while it stands, own reads after own writes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from upskill_operator.adapters.shared.alarm_snapshot import AlarmSnapshot
from upskill_operator.aws.cloudwatch import ObservedAlarm
from upskill_operator.models.monitoring import AlarmDefinition

SPACE = "upskill-team-"


def alarm(name: str, threshold: float = 0.0) -> ObservedAlarm:
    definition = AlarmDefinition(
        name=name,
        namespace="AWS/DynamoDB",
        metric="ReadThrottleEvents",
        dimensions=(),
        statistic="Sum",
        comparison="GreaterThanThreshold",
        threshold=threshold,
        period=60,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="notBreaching",
        actions=(),
        ok_actions=(),
        description="",
    )
    return ObservedAlarm(f"arn:aws:cloudwatch:us-east-1:1:alarm:{name}", "OK", definition)


@dataclass
class FakeCloudWatch:
    """Answers DescribeAlarms by prefix from a dict, counting the reads by prefix."""

    stored: dict[str, ObservedAlarm] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    def alarms(self, prefix: str) -> list[ObservedAlarm]:
        self.reads.append(prefix)
        return [a for n, a in sorted(self.stored.items()) if n.startswith(prefix)]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def bed() -> tuple[FakeCloudWatch, Clock, AlarmSnapshot]:
    cw, clock = FakeCloudWatch(), Clock()
    cw.stored = {n: alarm(n) for n in (f"{SPACE}a-cpu", f"{SPACE}b-cpu", f"{SPACE}ab-cpu", "upskill-teamx-a-cpu")}
    return cw, clock, AlarmSnapshot(cw, clock)  # type: ignore[arg-type]


def names(found: list[ObservedAlarm]) -> list[str]:
    return [a.definition.name for a in found]


def test_many_resources_share_one_read_while_it_stands(bed: tuple[FakeCloudWatch, Clock, AlarmSnapshot]) -> None:
    cw, clock, snap = bed
    assert names(snap.alarms(SPACE, f"{SPACE}a", 10)) == [f"{SPACE}a-cpu"]  # not ab's, not another namespace's
    assert names(snap.alarms(SPACE, f"{SPACE}b", 10)) == [f"{SPACE}b-cpu"]
    clock.now += 9.9
    assert names(snap.alarms(SPACE, f"{SPACE}ab", 10)) == [f"{SPACE}ab-cpu"]
    assert cw.reads == [SPACE]
    clock.now += 0.1  # max_age reached: read again
    snap.alarms(SPACE, f"{SPACE}a", 10)
    assert cw.reads == [SPACE, SPACE]


def test_a_change_shows_once_the_read_is_older_than_max_age(bed: tuple[FakeCloudWatch, Clock, AlarmSnapshot]) -> None:
    cw, clock, snap = bed
    snap.alarms(SPACE, f"{SPACE}a", 5)
    cw.stored[f"{SPACE}a-cpu"] = alarm(f"{SPACE}a-cpu", threshold=900.0)  # behind our back
    assert snap.alarms(SPACE, f"{SPACE}a", 5)[0].definition.threshold == 0.0  # the standing read
    clock.now += 5
    assert snap.alarms(SPACE, f"{SPACE}a", 5)[0].definition.threshold == 900.0


def test_after_its_own_write_a_resource_reads_its_own_prefix(bed: tuple[FakeCloudWatch, Clock, AlarmSnapshot]) -> None:
    cw, clock, snap = bed
    snap.alarms(SPACE, f"{SPACE}a", 10)
    cw.stored[f"{SPACE}a-latency"] = alarm(f"{SPACE}a-latency")
    clock.now += 1
    snap.touched(f"{SPACE}a")
    clock.now += 1
    assert names(snap.alarms(SPACE, f"{SPACE}a", 10)) == [f"{SPACE}a-cpu", f"{SPACE}a-latency"]
    assert cw.reads == [SPACE, f"{SPACE}a-"]
    assert names(snap.alarms(SPACE, f"{SPACE}a", 10)) == [f"{SPACE}a-cpu", f"{SPACE}a-latency"]  # own read stands
    assert names(snap.alarms(SPACE, f"{SPACE}b", 10)) == [f"{SPACE}b-cpu"]  # others keep the shared one
    assert cw.reads == [SPACE, f"{SPACE}a-"]


def test_a_read_started_before_a_write_never_stands_for_it(bed: tuple[FakeCloudWatch, Clock, AlarmSnapshot]) -> None:
    cw, clock, snap = bed
    snap.alarms(SPACE, f"{SPACE}a", 10)
    snap.touched(f"{SPACE}a")  # same instant as the read's start: the read may predate the write
    snap.alarms(SPACE, f"{SPACE}a", 10)
    assert cw.reads == [SPACE, f"{SPACE}a-"]  # its own prefix, not the namespace again
    clock.now += 20  # both reads aged: the namespace is read again, and it stands (it started after the write)
    snap.alarms(SPACE, f"{SPACE}a", 10)
    snap.alarms(SPACE, f"{SPACE}b", 10)
    assert cw.reads == [SPACE, f"{SPACE}a-", SPACE]


def test_fresh_always_reads(bed: tuple[FakeCloudWatch, Clock, AlarmSnapshot]) -> None:
    cw, _, snap = bed
    snap.alarms(SPACE, f"{SPACE}a", 10)
    cw.stored.pop(f"{SPACE}a-cpu")
    assert snap.alarms(SPACE, f"{SPACE}a", 10, fresh=True) == []
    assert cw.reads == [SPACE, f"{SPACE}a-"]
