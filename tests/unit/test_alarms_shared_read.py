"""The alarms step on the shared read: no read of its own at steady state, and never a write decided on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from upskill_operator.adapters.shared.alarm_plan import AlarmSource
from upskill_operator.adapters.shared.alarm_snapshot import AlarmSnapshot
from upskill_operator.adapters.shared.alarms import AlarmsAdapter
from upskill_operator.aws.cloudwatch import ObservedAlarm
from upskill_operator.models.common import Model
from upskill_operator.models.monitoring import TABLE_ALARMS, AlarmDefinition, AlarmOverride
from upskill_operator.reconcile.protocol import Steps, Target

BASE = "upskill-ns-res"
NAME = f"{BASE}-{TABLE_ALARMS['readThrottles'].slug}"


class Spec(Model):
    deletion_policy: str = "Delete"


def target() -> Target:
    return Target("Fake", "ns", "res", "u-1", 1, Spec())


@dataclass
class FakeCloudWatch:
    """Alarms by name with their tags; counts DescribeAlarms by prefix and every write."""

    stored: dict[str, tuple[ObservedAlarm, dict[str, str]]] = field(default_factory=dict)
    described: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)

    def alarms(self, prefix: str) -> list[ObservedAlarm]:
        self.described.append(prefix)
        return [a for n, (a, _) in sorted(self.stored.items()) if n.startswith(prefix)]

    def tags(self, arn: str) -> dict[str, str]:
        return next(t for a, t in self.stored.values() if a.arn == arn)

    def put(self, alarm: AlarmDefinition, tags: Mapping[str, str] | None = None) -> None:
        self.writes.append(f"put {alarm.name}")
        old = self.stored.get(alarm.name)
        self.stored[alarm.name] = (
            ObservedAlarm(f"arn:{alarm.name}", "OK", alarm),
            dict(tags or (old[1] if old else {})),
        )


class OneAlarm(AlarmsAdapter):
    """A kind with one alarm, the read throttles of table ``t``."""

    defaults = {"readThrottles": TABLE_ALARMS["readThrottles"]}

    def monitoring(self, target: Target) -> tuple[Mapping[str, AlarmOverride], tuple[str, ...]] | None:
        return {}, ()

    def sources(self, target: Target, steps: Steps) -> list[AlarmSource]:
        return [AlarmSource("readThrottles", TABLE_ALARMS["readThrottles"], (("TableName", "t"),))]


def step() -> tuple[OneAlarm, FakeCloudWatch]:
    cw = FakeCloudWatch()
    return OneAlarm(cw, "upskill", AlarmSnapshot(cw), max_age=60.0), cw  # type: ignore[arg-type]


def test_steady_passes_make_no_read_of_their_own() -> None:
    alarms, cw = step()
    alarms.create(target(), Steps())
    for _ in range(5):
        assert alarms.observe(target(), Steps()).up_to_date
    assert cw.described == ["upskill-ns-"]  # one shared read, made after the write


def test_a_stale_shared_read_never_decides_a_create() -> None:
    alarms, cw = step()
    alarms.observe(target(), Steps())  # the namespace read, empty
    someone = OneAlarm(cw, "upskill", AlarmSnapshot(cw), max_age=60.0)  # type: ignore[arg-type]
    someone.create(target(), Steps())  # an alarm under our name, made behind our back, tagged for another owner
    cw.stored[NAME] = (cw.stored[NAME][0], {"upskill.io/owner": "other/x"})
    seen = alarms.observe(target(), Steps())  # the shared read still says absent: it re-reads before deciding
    assert seen.exists
    assert seen.owner == "other/x"  # the engine stops here: ForeignOwner, nothing written
    assert cw.described[-1] == f"{BASE}-"
