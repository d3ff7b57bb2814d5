"""A step observed deeply on a slower cadence: its settled observation is reused until it is due again.

Wraps any adapter (a database's subnet group, security group, proxy role, proxy, target group,
endpoint). An observation that found the object ours (or nothing wanted), up to date, settled and
without conflicts is remembered under the spec's generation and a digest of the outputs the earlier
steps handed it (the cluster, its instances, the network...). A later pass reuses it, without any
AWS call, for ``deep_read_every - 1`` passes (and no longer than the memory's ``max_age``) while that
key is unchanged: a spec change, a change the cheap reads of the earlier steps saw, or any write of
this step (create, update, delete) makes the next pass read it again. A deletion always reads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Generic

from upskill_operator.adapters.shared.read_memory import Memory
from upskill_operator.reconcile.protocol import Adapter, Claim, DeletionPolicy, ObservationT, Steps, Target

__all__ = ["Cadenced", "inputs_key"]


def inputs_key(target: Target, outputs: Mapping[str, Any]) -> str:
    """A digest of what an observation depends on besides AWS: the spec's generation and the inputs."""
    text = json.dumps([target.generation, outputs], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


class Cadenced(Generic[ObservationT]):
    """Implements the reconcile ``Adapter`` protocol around another adapter, remembering settled observations."""

    def __init__(self, inner: Adapter[ObservationT], memory: Memory[ObservationT]) -> None:
        self.inner = inner
        self.memory = memory
        self.name = inner.name

    @property
    def owner_field(self) -> str | None:
        return self.inner.owner_field

    def wanted(self, target: Target, steps: Steps) -> bool:
        return self.inner.wanted(target, steps)

    def observe(self, target: Target, steps: Steps) -> ObservationT:
        if target.deleting:
            self.memory.forget(target.uid)
            return self.inner.observe(target, steps)
        key = inputs_key(target, steps.published)
        known = self.memory.recall(target.uid, key)
        if known is not None:
            return known.value
        observed = self.inner.observe(target, steps)
        if self._settled(target, observed):
            self.memory.remember(target.uid, key, observed)
        else:
            self.memory.forget(target.uid)
        return observed

    def _settled(self, target: Target, observed: ObservationT) -> bool:
        claimed = target.claim(
            observed.owner, observed.naming, observed.made_here
        )  # remember only what is ours, not what we may adopt
        ours = self.inner.owner_field is None or not observed.exists or claimed is Claim.OURS
        return ours and observed.up_to_date and not (observed.pending or observed.conflicts)

    def create(self, target: Target, steps: Steps) -> None:
        self.memory.forget(target.uid)
        self.inner.create(target, steps)

    def update(self, target: Target, steps: Steps, observed: ObservationT) -> None:
        self.memory.forget(target.uid)
        self.inner.update(target, steps, observed)

    def delete(self, target: Target, steps: Steps, observed: ObservationT, policy: DeletionPolicy) -> None:
        self.memory.forget(target.uid)
        self.inner.delete(target, steps, observed, policy)
