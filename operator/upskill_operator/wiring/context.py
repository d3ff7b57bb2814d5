"""What every kind's wiring receives: settings and the process-wide clients."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.adapters.shared.alarm_snapshot import AlarmSnapshot
from upskill_operator.adapters.shared.read_memory import Cadence, cadence
from upskill_operator.aws.cloudwatch import CloudWatch
from upskill_operator.aws.session import AwsClients
from upskill_operator.config import Settings
from upskill_operator.kube.client import Kube
from upskill_operator.reconcile.engine import Engine, PassObserver
from upskill_operator.reconcile.protocol import Adapter

__all__ = ["Context"]


@dataclass(frozen=True)
class Context:
    settings: Settings
    aws: AwsClients
    kube: Kube
    passes: Sequence[PassObserver] = field(default_factory=tuple)
    """Observers of every engine's passes (the runtime's hooks)."""
    alarm_reads: AlarmSnapshot = field(init=False)
    """One shared read of each namespace's alarms, for every kind with ``spec.monitoring``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "alarm_reads", AlarmSnapshot(CloudWatch(self.aws)))

    def engine(self, adapters: Sequence[Adapter[Any]]) -> Engine:
        return Engine(
            adapters,
            max_writes=self.settings.max_steps_per_pass,
            requeue_seconds=self.settings.requeue_seconds,
            adopt_scopes=self.settings.adopt_scopes,
            observers=self.passes,
        )

    def deep_reads(self, kind: str) -> Cadence:
        """How long a deep read of an object of ``kind`` stands: ``deep_read_every`` of its passes."""
        return cadence(self.settings.deep_read_every, self.resync_seconds(kind))

    def alarm_max_age(self, kind: str) -> float:
        """How long a shared alarm read stands for ``kind``: half its resync (drift shows within 2 resyncs)."""
        return self.resync_seconds(kind) / 2

    def resync_seconds(self, kind: str) -> float:
        return self.settings.kind_resync_seconds.get(kind, self.settings.resync_seconds)
