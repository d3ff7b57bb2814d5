"""Drive one UpskillTable through the real engine and adapter, carrying status between passes as kopf would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from upskill_operator.adapters.table.table import TableAdapter
from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.kms import Kms
from upskill_operator.models.table import TableSpec
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.outcome import Outcome
from upskill_operator.reconcile.protocol import OWNER_TAG, UID_TAG, Target

PREFIX = "upskill"
NAMESPACE = "team"
NAME = "orders"
UID = "0b5e-uid-1"
TABLE = f"{PREFIX}-{NAMESPACE}-{NAME}"
OWNER = f"{NAMESPACE}/{NAME}"
OWNERSHIP = {OWNER_TAG: OWNER, UID_TAG: UID}


def base_spec(**wire: Any) -> dict[str, Any]:
    """A small valid spec in wire (camelCase) form; keyword arguments override or add fields."""
    spec: dict[str, Any] = {
        "keys": {"partition": {"name": "pk", "type": "S"}, "sort": {"name": "sk", "type": "S"}},
        "deletionProtection": False,
    }
    spec.update(wire)
    return spec


def gsi(name: str, partition: str, sort: str | None = None, **extra: Any) -> dict[str, Any]:
    index: dict[str, Any] = {"name": name, "partition": {"name": partition, "type": "S"}}
    if sort:
        index["sort"] = {"name": sort, "type": "N"}
    return {**index, **extra}


@dataclass
class Driver:
    """One custom resource: its spec, generation and the status the handler would have written."""

    dynamodb: DynamoDB
    kms: Kms
    spec: dict[str, Any]
    status: dict[str, Any] = field(default_factory=dict)
    generation: int = 1

    @property
    def engine(self) -> Engine:
        return Engine([TableAdapter(self.dynamodb, self.kms, PREFIX)])

    def target(self) -> Target:
        return Target(
            kind="UpskillTable",
            namespace=NAMESPACE,
            name=NAME,
            uid=UID,
            generation=self.generation,
            spec=TableSpec.model_validate(self.spec),
            status=dict(self.status),
        )

    def reconcile(self) -> Outcome:
        outcome = self.engine.reconcile(self.target())
        self.status.update(outcome.outputs)
        return outcome

    def finalize(self) -> Outcome:
        return self.engine.finalize(self.target())

    def change(self, **wire: Any) -> Driver:
        """Edit the spec as ``kubectl apply`` would: a new generation."""
        self.spec = {**self.spec, **wire}
        self.generation += 1
        return self
