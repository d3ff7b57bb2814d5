"""Register the stuck-object sweeper (:mod:`upskill_operator.background.sweeper`) with kopf's start-up and cleanup."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

import kopf

from upskill_operator.background.sweeper import Sweeper, sweep_forever
from upskill_operator.config import Settings
from upskill_operator.kube.client import Kube, load_configuration
from upskill_operator.models.common import KindInfo

__all__ = ["register"]


def register(registry: kopf.OperatorRegistry, settings: Settings, kinds: Iterable[KindInfo]) -> None:
    """Start the sweeper with the operator and stop it at cleanup; ``sweep_seconds: 0`` leaves it off."""
    if not settings.sweep_seconds:
        return
    kinds = tuple(kinds)

    async def start(memo: kopf.Memo, **_: Any) -> None:
        kube = Kube(load_configuration(settings.kubeconfig))
        sweeper = Sweeper.for_cluster(kube, settings, kinds)
        task = asyncio.get_running_loop().create_task(sweep_forever(sweeper, settings.sweep_seconds))
        memo["sweeper"] = (task, kube)

    async def stop(memo: kopf.Memo, **_: Any) -> None:
        running: tuple[asyncio.Task[None], Kube] | None = memo.get("sweeper")
        if running is None:
            return
        task, kube = running
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        kube.close()

    kopf.on.startup(registry=registry, id="sweeper-start")(start)
    kopf.on.cleanup(registry=registry, id="sweeper-stop")(stop)
