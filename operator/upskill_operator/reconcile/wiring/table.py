"""UpskillTable: the DynamoDB table, then the connection ConfigMap."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from upskill_operator.adapters.configmap import ConnectionConfigMapAdapter
from upskill_operator.adapters.table import TableAdapter
from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.kms import Kms
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.protocol import Target
from upskill_operator.reconcile.wiring.context import Context

__all__ = ["build"]


def _connection(region: str) -> Any:
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


def build(ctx: Context) -> Engine:
    region = ctx.settings.aws.region
    return ctx.engine(
        [
            TableAdapter(
                DynamoDB(ctx.aws),
                Kms.in_own_account(ctx.aws),
                ctx.settings.name_prefix,
                deep_reads=ctx.deep_reads("UpskillTable"),
            ),
            ConnectionConfigMapAdapter(ctx.kube, _connection(region)),
        ]
    )
