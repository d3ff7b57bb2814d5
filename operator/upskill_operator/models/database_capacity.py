"""Capacity of an UpskillDatabase: Aurora Serverless v2 or provisioned instances, exactly one."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, model_validator

from upskill_operator.models.aurora import AUTO_PAUSE_SINCE, instance_class_problem, supports_auto_pause
from upskill_operator.models.common import Model
from upskill_operator.models.rules import Between, Cel, Matches, Problem, cel_rules, num, raise_all, running

__all__ = ["AUTO_PAUSE_SINCE", "CapacitySpec", "ProvisionedCapacity", "ServerlessCapacity", "supports_auto_pause"]


def _offered_class(instance_class: str, info: ValidationInfo) -> str:
    if instance_class == running(info, "capacity", "instanceClass"):
        return instance_class  # runs already (see running())
    if (problem := instance_class_problem(instance_class)) is not None:
        raise ValueError(problem)
    return instance_class


Acu = Annotated[float, Between(0, 256, step=0.5)]
Replicas = Annotated[int, Between(0, 15)]
InstanceClass = Annotated[
    str,
    Matches(r"^db\.[a-z0-9]+\.[a-z0-9]+$", "must be an instance class (db.t4g.medium)", 40),
    AfterValidator(_offered_class),
]

# double(): ACUs are `number`, which a real API server hands to CEL as double even when written as 4;
# converting keeps the rules right for any evaluator that passes integers through (the sandbox's).
MIN_LE_MAX = Cel("double(self.minACU) <= double(self.maxACU)", "must not exceed maxACU", ".minACU")
PAUSE_NEEDS_ZERO = Cel(
    "!has(self.autoPauseSeconds) || double(self.minACU) == 0.0", "only applies when minACU is 0", ".autoPauseSeconds"
)
ONE_CAPACITY = Cel(
    "has(self.serverless) != has(self.provisioned)", "exactly one of serverless or provisioned must be set"
)


class ServerlessCapacity(Model):
    """Aurora Serverless v2: db.serverless instances scaling between minACU and maxACU."""

    model_config = ConfigDict(json_schema_extra=cel_rules(MIN_LE_MAX, PAUSE_NEEDS_ZERO))

    min_acu: Acu = Field(
        0.5,
        alias="minACU",
        description="Lowest capacity in ACUs, 0-256 in steps of 0.5. 0 pauses idle instances "
        "(Aurora PostgreSQL 13.15, 14.12, 15.7, 16.3 or later).",
    )
    max_acu: Annotated[float, Between(1, 256, step=0.5)] = Field(
        alias="maxACU", description="Highest capacity in ACUs, 1-256 in steps of 0.5."
    )
    auto_pause_seconds: Annotated[int, Between(300, 86400)] | None = Field(
        None, description="With minACU 0: idle seconds before an instance pauses, 300-86400 (AWS default 300)."
    )
    read_replicas: Replicas = Field(0, description="Reader instances (db.serverless) besides the writer, 0-15.")

    @model_validator(mode="after")
    def _range(self) -> ServerlessCapacity:
        problems: list[Problem] = []
        if self.min_acu > self.max_acu:
            problems.append((MIN_LE_MAX.loc, f"{MIN_LE_MAX.message} (got {num(self.min_acu)} > {num(self.max_acu)})"))
        if self.auto_pause_seconds is not None and self.min_acu != 0:
            problems.append((PAUSE_NEEDS_ZERO.loc, f"{PAUSE_NEEDS_ZERO.message} (got minACU {num(self.min_acu)})"))
        raise_all(problems)
        return self


class ProvisionedCapacity(Model):
    """Provisioned instances of one class: a writer and readReplicas readers."""

    instance_class: InstanceClass = Field(description="Instance class of every instance, e.g. db.t4g.medium.")
    read_replicas: Replicas = Field(0, description="Reader instances besides the writer, 0-15.")


class CapacitySpec(Model):
    """How the instances are sized: exactly one of serverless or provisioned. Switching is done in place."""

    model_config = ConfigDict(json_schema_extra=cel_rules(ONE_CAPACITY))

    serverless: ServerlessCapacity | None = Field(None, description="Aurora Serverless v2 scaling.")
    provisioned: ProvisionedCapacity | None = Field(None, description="Provisioned instances of a fixed class.")

    @model_validator(mode="after")
    def _exactly_one(self) -> CapacitySpec:
        if (self.serverless is None) == (self.provisioned is None):
            raise ValueError(ONE_CAPACITY.message)
        return self

    @property
    def read_replicas(self) -> int:
        chosen = self.serverless or self.provisioned
        return chosen.read_replicas if chosen is not None else 0
