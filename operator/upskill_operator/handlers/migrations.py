"""Operator-driven migrations: apply an UpskillDatabase's ``spec.migrations`` once it is Ready.

One daemon per database with ``spec.migrations``. It waits for ``Ready`` (for the current
generation), applies the set through the read/write endpoint (the runner's advisory lock makes
a second operator replica, or the CLI, harmless), and reports:

* ``status.migrations``: how many of the set are applied and the latest one's name;
* the ``MigrationsApplied`` condition: True, or False with the runner's message (the file and
  line of a failing statement, a changed checksum, an unreachable database).

After a success it checks again at the kind's resync interval (a new file in a ConfigMap is
applied then) or at once when spec.migrations or the endpoint changes; a check that finds
nothing new writes nothing. After a failure it
retries with exponential backoff, capped at five minutes (a broken file never makes a hot loop), or at once
when the spec changes. A run going for more than 30 s says what it is doing (connecting, the lock, which
file) in the log and, until the migrations show as applied, in the condition (Unknown, ``Applying``).
"""

from __future__ import annotations

from typing import Any

import kopf

from upskill_operator.background.migrator import Migrator
from upskill_operator.models.common import API_GROUP, API_VERSION, KindInfo
from upskill_operator.wiring.runtime import Runtime

__all__ = ["register"]


def _daemon(info: KindInfo) -> Any:
    async def migrate(stopped: kopf.DaemonStopped, body: kopf.Body, memo: kopf.Memo, logger: Any, **_: Any) -> None:
        runtime: Runtime = memo["runtime"]
        migrator = Migrator(info, runtime, body, logger, memo.setdefault("asserted_conditions", {}))
        waiting = ""
        try:
            while not stopped:
                try:
                    if await migrator.due():
                        await migrator.run()
                    else:
                        if waiting != (why := migrator.waiting_for()):
                            logger.debug(f"migrations: {why}")  # each change of reason once, never per round
                            waiting = why
                        if not migrator.shown():
                            await migrator.write()  # the condition is missing from the body: written unless held
                except Exception as exc:  # noqa: BLE001 - the daemon must survive a status write failure
                    logger.warning(f"migrations round failed: {type(exc).__name__}: {exc}")
                await stopped.wait(runtime.settings.requeue_seconds)
        finally:
            migrator.retract()

    return migrate


def _has_migrations(spec: kopf.Spec, **_: Any) -> bool:
    return bool(spec.get("migrations"))


def register(registry: kopf.OperatorRegistry, kinds: tuple[KindInfo, ...]) -> None:
    """The migrations daemon, when the UpskillDatabase kind is served."""
    for info in kinds:
        if info.kind == "UpskillDatabase":
            kopf.daemon(
                API_GROUP,
                API_VERSION,
                info.plural,
                registry=registry,
                id="migrations",
                when=_has_migrations,
                cancellation_backoff=30.0,
                cancellation_timeout=5.0,
            )(_daemon(info))
