"""What every kind's wiring receives: settings and the process-wide clients."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from upskill_operator.adapters.shared.read_memory import Cadence, cadence
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

    def engine(self, adapters: Sequence[Adapter]) -> Engine:
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

    def resync_seconds(self, kind: str) -> float:
        return self.settings.kind_resync_seconds.get(kind, self.settings.resync_seconds)
