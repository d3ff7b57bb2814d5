"""The DynamoDB prober: GetItem on a key no app uses (``upskill-probe``), timed around the call."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Mapping
from typing import Any

from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.errors import AwsNotFoundError
from upskill_operator.errors import OperatorError, TerminalError
from upskill_operator.models.table import TableSpec
from upskill_operator.probes.offload import Offload, in_thread
from upskill_operator.probes.window import ProbeFailure

__all__ = ["PROBE_KEY", "TableProber", "table_probe_key"]

PROBE_KEY = "upskill-probe"
_TYPED: dict[str, Any] = {"S": PROBE_KEY, "N": "0", "B": PROBE_KEY.encode()}


class TableProber:
    """GetItem on the probe key, in a worker thread (boto3 blocks), timed around the call.

    A timeout cannot stop a thread: the call goes on until boto3 gives up. Until it does, no other
    GetItem starts (the round counts a timeout), so a slow endpoint holds one thread per table, not one
    per round.
    """

    endpoint = "table"

    def __init__(
        self,
        dynamodb: DynamoDB,
        table_name: str,
        key: Mapping[str, Mapping[str, Any]],
        offload: Offload = in_thread,
    ) -> None:
        self._dynamodb, self._table, self._key, self._offload = dynamodb, table_name, key, offload
        self._running: asyncio.Task[Any] | None = None

    async def probe(self) -> float:
        if self._running is not None and not self._running.done():
            raise ProbeFailure("timeout", "the previous GetItem has not answered yet")
        started = time.perf_counter()
        self._running = asyncio.ensure_future(
            self._offload(functools.partial(self._dynamodb.get_item, self._table, self._key))
        )
        self._running.add_done_callback(_retrieved)
        try:
            await asyncio.shield(self._running)  # a timeout leaves the call running (and this prober waiting on it)
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


def _retrieved(task: asyncio.Task[Any]) -> None:
    """Retrieve the outcome of a call whose round timed out (or asyncio warns it was never retrieved)."""
    if not task.cancelled():
        task.exception()


def table_probe_key(spec: TableSpec) -> dict[str, dict[str, Any]]:
    """The probe item's key: ``upskill-probe`` (or 0) in every key attribute, typed as the schema says."""
    key: dict[str, dict[str, Any]] = {
        spec.keys.partition.name: {spec.keys.partition.type: _TYPED[spec.keys.partition.type]}
    }
    if spec.keys.sort is not None:
        key[spec.keys.sort.name] = {spec.keys.sort.type: _TYPED[spec.keys.sort.type]}
    return key
