"""UpskillTable: the DynamoDB table, then the connection ConfigMap."""

from __future__ import annotations

from upskill_operator.adapters.shared.configmap import ConnectionConfigMapAdapter
from upskill_operator.adapters.table.config_keys import data_fn
from upskill_operator.adapters.table.table import TableAdapter
from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.kms import Kms
from upskill_operator.reconcile.engine import Engine
from upskill_operator.wiring.context import Context

__all__ = ["build"]


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
            ConnectionConfigMapAdapter(ctx.kube, data_fn(region)),
        ]
    )
