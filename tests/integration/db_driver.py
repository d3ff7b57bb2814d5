"""Drive UpskillDatabase adapters through the real engine against the moto server, one step or all.

``Driver.run(adapters)`` builds an engine from the given adapters, preceded by a step that
publishes ``given`` outputs (what earlier steps would have published), and carries status between
passes as the handler does. ``until_settled`` repeats passes while AWS reports a transitional state.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upskill_operator.aws.ec2 import Ec2
from upskill_operator.aws.iam import Iam
from upskill_operator.aws.kms import Kms
from upskill_operator.aws.rds import Rds
from upskill_operator.aws.rds_proxy import RdsProxy
from upskill_operator.aws.session import AwsClients
from upskill_operator.config import AwsSettings
from upskill_operator.generate import kubectl_yaml
from upskill_operator.models.database import DatabaseSpec
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.outcome import Outcome, State
from upskill_operator.reconcile.protocol import Adapter, DeletionPolicy, Observation, Target
from upskill_sandbox.aws import MotoServer

PREFIX = "upskill"
NAMESPACE = "team"
UID = "5eed0000-aaaa-bbbb"
EXAMPLES = Path(__file__).parents[2] / "manifests/examples/upskill-stack"


def clients(moto: MotoServer) -> AwsClients:
    """The operator's clients for the emulator, without the client-side rate limit (tests would only wait)."""
    return AwsClients(AwsSettings(endpoint_url=moto.url, region="us-east-1", max_attempts=2, calls_per_second={}))


def spec_of(which: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(kubectl_yaml.load((EXAMPLES / f"{which}-db.yaml").read_text())["spec"])
    body.update(deletionProtection=False, deletionPolicy="Delete")
    body.update(changes)
    return body


@dataclass
class Given:
    """A step with nothing to manage (absent, and meant to be) that publishes fixed outputs."""

    outputs: Mapping[str, Any]
    name: str = "given"
    owner_field: str | None = None

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        return Observation(exists=False, up_to_date=True, outputs=dict(self.outputs))

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None: ...

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None: ...

    def delete(
        self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy
    ) -> None: ...


@dataclass
class Services:
    rds: Rds
    proxies: RdsProxy
    ec2: Ec2
    iam: Iam
    kms: Kms

    @classmethod
    def of(cls, clients: AwsClients) -> Services:
        return cls(Rds(clients), RdsProxy(clients), Ec2(clients), Iam(clients), Kms(clients))


@dataclass
class Driver:
    spec: dict[str, Any]
    name: str = "db"
    status: dict[str, Any] = field(default_factory=dict)
    given: dict[str, Any] = field(default_factory=dict)

    def target(self) -> Target:
        return Target(
            "UpskillDatabase", NAMESPACE, self.name, UID, 1, DatabaseSpec.model_validate(self.spec), dict(self.status)
        )

    @property
    def cluster(self) -> str:
        return f"{PREFIX}-{NAMESPACE}-{self.name}"

    def _engine(self, adapters: Sequence[Adapter]) -> Engine:
        return Engine([Given(self.given), *adapters], max_writes=8, requeue_seconds=0)

    def run(self, adapters: Sequence[Adapter]) -> Outcome:
        outcome = self._engine(adapters).reconcile(self.target())
        self.status.update({k: v for k, v in outcome.outputs.items() if v is not None})
        return outcome

    def until_settled(self, adapters: Sequence[Adapter], passes: int = 12) -> Outcome:
        for _ in range(passes):
            outcome = self.run(adapters)
            if outcome.state is not State.PROGRESSING:
                return outcome
        return outcome

    def finalize(self, adapters: Sequence[Adapter], passes: int = 12) -> Outcome:
        for _ in range(passes):
            outcome = self._engine(adapters).finalize(self.target())
            if outcome.state is not State.PROGRESSING:
                return outcome
        return outcome
