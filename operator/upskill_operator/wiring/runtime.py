"""Build the process-wide clients and one engine per implemented kind, once per operator process.

Each kind also gets its own pool of worker threads for its blocking passes. With one shared pool,
a kind held back by its AWS rate limit (200 databases at 8 RDS calls/s) sleeps in every thread
and starves the others: tables took five times longer to become Ready in ``bench/load.py``.
The background loops have pools of their own for the same reason (:data:`LOOP_POOLS`): a migration
run must never wait behind probe calls that outlived their timeout, nor behind a kind's passes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from upskill_operator.aws.session import AttemptObserver, AwsClients, CallObserver
from upskill_operator.config import Settings
from upskill_operator.kube.client import Kube, load_configuration
from upskill_operator.models import table
from upskill_operator.reconcile.engine import Engine, PassObserver
from upskill_operator.wiring import database as database_wiring
from upskill_operator.wiring import secret as secret_wiring
from upskill_operator.wiring import table as table_wiring
from upskill_operator.wiring.context import Context

__all__ = ["LOOP_POOLS", "WIRING", "Hooks", "Runtime", "build_runtime"]

T = TypeVar("T")

WIRING = {
    table.KIND.kind: table_wiring.build,
    "UpskillSecret": secret_wiring.build,
    "UpskillDatabase": database_wiring.build,
}
"""Kind name -> engine builder. A kind is served by the operator when it is listed here."""

LOOP_POOLS = ("migrations", "probes")
"""Pools of the background loops, beside the kinds' (:meth:`Runtime.run` takes either name): the migrations
daemons' runs and status writes; the probe loops' blocking calls (GetItem, credentials) and status writes."""


@dataclass
class Hooks:
    """Observers of the runtime's AWS attempts, logical AWS calls and engine passes (the test bed's instruments).

    The runtime reads these lists as it goes, so an observer may join and leave while it runs
    (:meth:`added`). The shipped operator runs with none.
    """

    attempts: list[AttemptObserver] = field(default_factory=list)
    calls: list[CallObserver] = field(default_factory=list)
    passes: list[PassObserver] = field(default_factory=list)

    @contextmanager
    def added(
        self,
        *,
        attempt: AttemptObserver | None = None,
        call: CallObserver | None = None,
        passes: PassObserver | None = None,
    ) -> Iterator[Hooks]:
        """Observe while the block runs (after the observers already there)."""
        with ExitStack() as held:
            if attempt is not None:
                held.enter_context(_member(self.attempts, attempt))
            if call is not None:
                held.enter_context(_member(self.calls, call))
            if passes is not None:
                held.enter_context(_member(self.passes, passes))
            yield self


@contextmanager
def _member(into: list[T], item: T) -> Iterator[None]:
    into.append(item)
    try:
        yield
    finally:
        into.remove(item)


@dataclass
class Runtime:
    """Process-wide collaborators, created at start-up and closed at shutdown."""

    settings: Settings
    aws: AwsClients
    kube: Kube
    engines: dict[str, Engine] = field(default_factory=dict)
    executors: dict[str, ThreadPoolExecutor] = field(default_factory=dict)

    async def run(self, pool: str, work: Callable[[], T]) -> T:
        """Run blocking work on a pool's own threads: a kind's (an engine pass) or a loop's (:data:`LOOP_POOLS`)."""
        return await asyncio.get_running_loop().run_in_executor(self.executors[pool], work)

    def close(self) -> None:
        for executor in self.executors.values():  # passes in flight finish; none start after this
            executor.shutdown(wait=True, cancel_futures=True)
        self.kube.close()


def build_runtime(settings: Settings, hooks: Hooks | None = None) -> Runtime:
    hooks = hooks or Hooks()
    aws = AwsClients(settings.aws, attempts=hooks.attempts, calls=hooks.calls)
    kube = Kube(load_configuration(settings.kubeconfig))
    ctx = Context(settings=settings, aws=aws, kube=kube, passes=hooks.passes)
    return Runtime(
        settings=settings,
        aws=aws,
        kube=kube,
        engines={kind: build(ctx) for kind, build in WIRING.items()},
        executors={
            pool: ThreadPoolExecutor(settings.workers, thread_name_prefix=f"upskill-{pool.removeprefix('Upskill')}")
            for pool in (*WIRING, *LOOP_POOLS)
        },
    )
