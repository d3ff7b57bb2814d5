"""Wiring: build the clients and one engine per kind from settings, once per operator process."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.adapters.configmap import ConnectionConfigMapAdapter
from upskill_operator.adapters.table import TableAdapter
from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.kms import Kms
from upskill_operator.aws.session import AwsClients
from upskill_operator.config import Settings
from upskill_operator.kube.client import Kube, load_configuration
from upskill_operator.models import table
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.protocol import Target

__all__ = ["Runtime", "build_runtime"]


@dataclass
class Runtime:
    """Process-wide collaborators, created at start-up and closed at shutdown."""

    settings: Settings
    aws: AwsClients
    kube: Kube
    engines: dict[str, Engine] = field(default_factory=dict)

    def close(self) -> None:
        self.kube.close()


def _table_connection(region: str) -> Any:
    def data(target: Target, outputs: Mapping[str, Any]) -> dict[str, str] | None:
        if not outputs.get("arn"):
            return None
        values = {
            "TABLE_NAME": outputs.get("tableName"),
            "TABLE_ARN": outputs.get("arn"),
            "STREAM_ARN": outputs.get("streamArn"),
            "AWS_REGION": region,
        }
        return {k: str(v) for k, v in values.items() if v}

    return data


def build_runtime(settings: Settings) -> Runtime:
    aws = AwsClients(settings.aws)
    kube = Kube(load_configuration(settings.kubeconfig))
    engines = {
        table.KIND.kind: Engine(
            [
                TableAdapter(DynamoDB(aws), Kms(aws), settings.name_prefix),
                ConnectionConfigMapAdapter(kube, _table_connection(settings.aws.region)),
            ],
            max_writes=settings.max_steps_per_pass,
            requeue_seconds=settings.requeue_seconds,
        ),
    }
    return Runtime(settings=settings, aws=aws, kube=kube, engines=engines)
