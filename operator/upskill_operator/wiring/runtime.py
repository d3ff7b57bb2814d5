"""Build the process-wide clients and one engine per implemented kind, once per operator process.

Each kind also gets its own pool of worker threads for its blocking passes. With one shared pool,
a kind held back by its AWS rate limit (200 databases at 8 RDS calls/s) sleeps in every thread
and starves the others: tables took five times longer to become Ready in ``bench/load.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from upskill_operator.aws.session import AwsClients
from upskill_operator.config import Settings
from upskill_operator.kube.client import Kube, load_configuration
from upskill_operator.models import table
from upskill_operator.reconcile.engine import Engine
from upskill_operator.wiring import database as database_wiring
from upskill_operator.wiring import secret as secret_wiring
from upskill_operator.wiring import table as table_wiring
from upskill_operator.wiring.context import Context

__all__ = ["WIRING", "Runtime", "build_runtime"]

T = TypeVar("T")

WIRING = {
    table.KIND.kind: table_wiring.build,
    "UpskillSecret": secret_wiring.build,
    "UpskillDatabase": database_wiring.build,
}
"""Kind name -> engine builder. A kind is served by the operator when it is listed here."""


@dataclass
class Runtime:
    """Process-wide collaborators, created at start-up and closed at shutdown."""

    settings: Settings
    aws: AwsClients
    kube: Kube
    engines: dict[str, Engine] = field(default_factory=dict)
    executors: dict[str, ThreadPoolExecutor] = field(default_factory=dict)

    async def run(self, kind: str, work: Callable[[], T]) -> T:
        """Run blocking work (an engine pass) on the kind's own worker threads."""
        return await asyncio.get_running_loop().run_in_executor(self.executors[kind], work)

    def close(self) -> None:
        for executor in self.executors.values():  # passes in flight finish; none start after this
            executor.shutdown(wait=True, cancel_futures=True)
        self.kube.close()


def build_runtime(settings: Settings) -> Runtime:
    aws = AwsClients(settings.aws)
    kube = Kube(load_configuration(settings.kubeconfig))
    ctx = Context(settings=settings, aws=aws, kube=kube)
    return Runtime(
        settings=settings,
        aws=aws,
        kube=kube,
        engines={kind: build(ctx) for kind, build in WIRING.items()},
        executors={
            kind: ThreadPoolExecutor(settings.workers, thread_name_prefix=f"upskill-{kind.removeprefix('Upskill')}")
            for kind in WIRING
        },
    )
