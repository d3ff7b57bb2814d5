"""UpskillTable: the DynamoDB table (empty or restored), its backups, its CloudWatch alarms, then the ConfigMap."""

from __future__ import annotations

from upskill_operator.adapters.shared.configmap import ConnectionConfigMapAdapter
from upskill_operator.adapters.table.alarms import TableAlarmsAdapter
from upskill_operator.adapters.table.backups import BackupsAdapter
from upskill_operator.adapters.table.config_keys import data_fn
from upskill_operator.adapters.table.restore import Restorer
from upskill_operator.adapters.table.table import TableAdapter
from upskill_operator.aws.cloudwatch import CloudWatch
from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.dynamodb_backups import DynamoDBBackups
from upskill_operator.aws.kms import Kms
from upskill_operator.reconcile.engine import Engine
from upskill_operator.wiring.context import Context

__all__ = ["build"]


def build(ctx: Context) -> Engine:
    region, dynamodb, backups = ctx.settings.aws.region, DynamoDB(ctx.aws), DynamoDBBackups(ctx.aws)
    prefix = ctx.settings.name_prefix
    return ctx.engine(
        [
            TableAdapter(
                dynamodb,
                Kms.in_own_account(ctx.aws),
                prefix,
                deep_reads=ctx.deep_reads("UpskillTable"),
                restorer=Restorer(dynamodb, backups, prefix),
            ),
            BackupsAdapter(backups, dynamodb),
            TableAlarmsAdapter(CloudWatch(ctx.aws), prefix, ctx.alarm_reads, ctx.alarm_max_age("UpskillTable")),
            ConnectionConfigMapAdapter(ctx.kube, data_fn(region)),
        ]
    )
