"""The DynamoDB prober: GetItem on a key no app uses (``upskill-probe``), timed around the call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.errors import AwsNotFoundError
from upskill_operator.errors import OperatorError, TerminalError
from upskill_operator.models.table import TableSpec
from upskill_operator.probes.window import ProbeFailure

__all__ = ["PROBE_KEY", "TableProber", "table_probe_key"]

PROBE_KEY = "upskill-probe"
_TYPED: dict[str, Any] = {"S": PROBE_KEY, "N": "0", "B": PROBE_KEY.encode()}


class TableProber:
    """GetItem on the probe key, in a worker thread (boto3 blocks), timed around the call."""

    endpoint = "table"

    def __init__(self, dynamodb: DynamoDB, table_name: str, key: Mapping[str, Mapping[str, Any]]) -> None:
        self._dynamodb, self._table, self._key = dynamodb, table_name, key

    async def probe(self) -> float:
        started = time.perf_counter()
        try:
            await asyncio.to_thread(self._dynamodb.get_item, self._table, self._key)
        except AwsNotFoundError as exc:
            raise ProbeFailure("unavailable", str(exc)) from None
        except TerminalError as exc:
            reason = "auth" if "AccessDenied" in exc.reason or "Unrecognized" in exc.reason else "query"
            raise ProbeFailure(reason, str(exc)) from None
        except OperatorError as exc:
            raise ProbeFailure("unavailable", str(exc)) from None
        return time.perf_counter() - started

    async def close(self) -> None:
        return None


def table_probe_key(spec: TableSpec) -> dict[str, dict[str, Any]]:
    """The probe item's key: ``upskill-probe`` (or 0) in every key attribute, typed as the schema says."""
    key: dict[str, dict[str, Any]] = {
        spec.keys.partition.name: {spec.keys.partition.type: _TYPED[spec.keys.partition.type]}
    }
    if spec.keys.sort is not None:
        key[spec.keys.sort.name] = {spec.keys.sort.type: _TYPED[spec.keys.sort.type]}
    return key
