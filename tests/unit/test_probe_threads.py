"""A DynamoDB probe that outlives its timeout holds one thread, not one per round."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from upskill_operator.probes.dynamodb import TableProber
from upskill_operator.probes.window import ProbeSet, ProbeSettings

KEY = {"pk": {"S": "upskill-probe"}}


class SlowDynamoDB:
    """GetItem that blocks until released, as boto3 does against an endpoint that stopped answering."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def get_item(self, table: str, key: Any) -> dict[str, Any]:
        self.calls += 1
        assert self.release.wait(10), "never released"
        return {}


def test_a_timed_out_getitem_is_not_called_again_until_it_answers() -> None:
    async def scenario() -> None:
        ddb = SlowDynamoDB()
        prober = TableProber(ddb, "t", KEY)  # type: ignore[arg-type]
        probes = ProbeSet("UpskillTable", "ns", "t", [prober], ProbeSettings(timeout_seconds=0.05))
        state = probes.states["table"]

        await probes.run_once()
        assert state.last_failure is not None
        assert state.last_failure.reason == "timeout"
        for _ in range(3):  # later rounds while the first call still blocks its thread
            await probes.run_once()
            assert state.last_failure is not None
            assert "has not answered yet" in str(state.last_failure)
        assert ddb.calls == 1

        ddb.release.set()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if ddb.calls == 1 and prober._running is not None and prober._running.done():
                break
        await probes.run_once()
        assert state.last_failure is None
        assert len(state.samples) == 1
        assert ddb.calls == 2

    asyncio.run(scenario())


def test_the_getitem_runs_where_the_loop_says() -> None:
    ran: list[str] = []

    async def offload(work: Any) -> Any:
        ran.append("loop pool")
        return work()

    async def scenario() -> float:
        ddb = SlowDynamoDB()
        ddb.release.set()
        return await TableProber(ddb, "t", KEY, offload).probe()  # type: ignore[arg-type]

    assert asyncio.run(scenario()) >= 0
    assert ran == ["loop pool"]
