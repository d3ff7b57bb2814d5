"""The CloudWatch alarms of an UpskillTable: the table's throttles and system errors, and each index's throttles.

DynamoDB (``AWS/DynamoDB``): ReadThrottleEvents and WriteThrottleEvents by ``TableName``; SystemErrors,
which DynamoDB publishes per ``TableName`` and ``Operation``, one alarm per operation the applications
use (:data:`OPERATIONS`); and each global index's throttle events by ``TableName`` and
``GlobalSecondaryIndexName``. The table's name comes from the table step of this pass.
"""

from __future__ import annotations

from collections.abc import Mapping

from upskill_operator.adapters.shared.alarm_plan import AlarmSource
from upskill_operator.adapters.shared.alarms import AlarmsAdapter
from upskill_operator.adapters.table.table import TableObservation
from upskill_operator.models.monitoring import TABLE_ALARMS, AlarmOverride
from upskill_operator.models.table import TableSpec
from upskill_operator.reconcile.protocol import Steps, Target

__all__ = ["OPERATIONS", "TableAlarmsAdapter"]

OPERATIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query")
"""The operations with a SystemErrors alarm each."""


def _spec(target: Target) -> TableSpec:
    if not isinstance(target.spec, TableSpec):
        raise TypeError(f"TableAlarmsAdapter needs a TableSpec, got {type(target.spec).__name__}")
    return target.spec


class TableAlarmsAdapter(AlarmsAdapter):
    """Implements the reconcile ``Adapter`` protocol for the alarms of a table and its indexes."""

    defaults = TABLE_ALARMS
    indexed = frozenset({"systemErrors", "indexReadThrottles", "indexWriteThrottles"})

    def monitoring(self, target: Target) -> tuple[Mapping[str, AlarmOverride], tuple[str, ...]] | None:
        spec = _spec(target).monitoring
        return None if spec is None else (spec.alarms.overrides(), tuple(spec.actions))

    def sources(self, target: Target, steps: Steps) -> list[AlarmSource]:
        table = steps.get_step(TableObservation)
        if table is None or table.table is None:
            return []
        name = table.table.name
        on_table = (("TableName", name),)
        out = [AlarmSource(k, TABLE_ALARMS[k], on_table) for k in ("readThrottles", "writeThrottles")]
        out += [
            AlarmSource("systemErrors", TABLE_ALARMS["systemErrors"], (*on_table, ("Operation", op)), op)
            for op in OPERATIONS
        ]
        for index in _spec(target).global_indexes:
            on_index = (*on_table, ("GlobalSecondaryIndexName", index.name))
            out += [
                AlarmSource(k, TABLE_ALARMS[k], on_index, index.name)
                for k in ("indexReadThrottles", "indexWriteThrottles")
            ]
        return out
