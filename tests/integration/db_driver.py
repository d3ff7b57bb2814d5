"""Drive UpskillDatabase adapters through the real engine against the moto server, one step or all.

``Driver.run(adapters)`` builds an engine from the given adapters, preceded by steps that report
``given`` facts as the observations the earlier steps would have made, and carries status between
passes as the handler does. ``until_settled`` repeats passes while AWS reports a transitional state.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upskill_operator.adapters.database.cluster import ClusterObservation
from upskill_operator.adapters.database.cluster_plan import ObservedCluster
from upskill_operator.adapters.database.security_group import SecurityGroupObservation
from upskill_operator.adapters.database.subnet_group import SubnetGroupObservation
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
from upskill_operator.reconcile.protocol import Adapter, DeletionPolicy, Observation, Steps, Target
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
    """A step with nothing to manage (absent, and meant to be) that reports a fixed observation."""

    observation: Observation
    name: str = "given"
    owner_field: str | None = None

    def wanted(self, target: Target, steps: Steps) -> bool:
        return True

    def observe(self, target: Target, steps: Steps) -> Observation:
        return self.observation

    def create(self, target: Target, steps: Steps) -> None: ...

    def update(self, target: Target, steps: Steps, observed: Observation) -> None: ...

    def delete(self, target: Target, steps: Steps, observed: Observation, policy: DeletionPolicy) -> None: ...


def given_steps(given: Mapping[str, Any]) -> list[Given]:
    """The observations of the network and cluster steps that published ``given`` (wire names)."""

    def picked(*keys: str) -> dict[str, Any]:
        return {k: given[k] for k in keys if k in given}

    absent: dict[str, Any] = {"exists": False, "up_to_date": True}
    steps = [
        Given(
            SubnetGroupObservation(
                **absent,
                outputs=picked("subnetIds", "vpcId"),
                subnet_ids=tuple(given.get("subnetIds") or ()),
                vpc_id=str(given.get("vpcId") or ""),
            ),
            "given network",
        )
    ]
    if "securityGroupIds" in given:
        groups = tuple(given["securityGroupIds"])
        steps.append(Given(SecurityGroupObservation(**absent, outputs=picked("securityGroupIds"), group_ids=groups)))
    if "masterUserSecretArn" in given:
        cluster = ObservedCluster("", None, "", "", secret_arn=given["masterUserSecretArn"])
        steps.append(Given(ClusterObservation(**absent, outputs=picked("masterUserSecretArn"), cluster=cluster)))
    rest = {
        k: v for k, v in given.items() if k not in ("subnetIds", "vpcId", "securityGroupIds", "masterUserSecretArn")
    }
    if rest:
        steps.append(Given(Observation(**absent, outputs=rest), "given rest"))
    return steps


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

    def _engine(self, adapters: Sequence[Adapter[Any]]) -> Engine:
        return Engine([*given_steps(self.given), *adapters], max_writes=8, requeue_seconds=0)

    def run(self, adapters: Sequence[Adapter[Any]]) -> Outcome:
        outcome = self._engine(adapters).reconcile(self.target())
        self.status.update({k: v for k, v in outcome.outputs.items() if v is not None})
        return outcome

    def until_settled(self, adapters: Sequence[Adapter[Any]], passes: int = 12) -> Outcome:
        for _ in range(passes):
            outcome = self.run(adapters)
            if outcome.state is not State.PROGRESSING:
                return outcome
        return outcome

    def finalize(self, adapters: Sequence[Adapter[Any]], passes: int = 12) -> Outcome:
        for _ in range(passes):
            outcome = self._engine(adapters).finalize(self.target())
            if outcome.state is not State.PROGRESSING:
                return outcome
        return outcome
