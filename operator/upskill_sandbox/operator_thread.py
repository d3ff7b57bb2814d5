"""Run the real operator (kopf + our registry) in a thread with its own event loop.

kopf must not share the caller's loop (pytest-asyncio's, say): it cancels
tasks it does not own on exit. A thread also lets a test "crash" the operator
and start a new one against the same emulators.
"""

from __future__ import annotations

import asyncio
import threading

import kopf

from upskill_operator.config import Settings
from upskill_operator.handlers import build_registry
from upskill_operator.wiring.runtime import Hooks

__all__ = ["OperatorThread"]


class OperatorThread:
    """The operator; ``hooks`` are the observers its runtime calls (its AWS attempts and calls, its passes)."""

    def __init__(self, settings: Settings, hooks: Hooks | None = None) -> None:
        self.settings = settings
        self.hooks = hooks if hooks is not None else Hooks()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._task = loop.create_task(
                kopf.operator(
                    registry=build_registry(self.settings, self.hooks),
                    clusterwide=not self.settings.namespaces,
                    namespaces=self.settings.namespaces,
                    standalone=True,
                    stop_flag=self._stop,
                    ready_flag=self._ready,
                    memo=kopf.Memo(),
                )
            )
            loop.run_until_complete(self._task)
        except BaseException as exc:  # noqa: BLE001 - surfaced through .error to whoever waits on the thread
            self.error = exc
        finally:
            # kopf abandons handlers still inside a blocking call; wait for those threads, so that
            # a stopped operator makes no further AWS or Kubernetes calls.
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def start(self, timeout: float = 30.0) -> OperatorThread:
        self._thread = threading.Thread(target=self._main, name="upskill-operator", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the operator did not start within {timeout}s: {self.error!r}")
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def kill(self, timeout: float = 30.0) -> None:
        """Stop at once, as a killed process would: kopf's tasks are cancelled instead of drained.

        :meth:`stop` lets kopf's workers finish their queues (up to kopf's 2 s exit timeout); a
        crash test does not wait for that. Blocking calls already running in worker threads still
        return before this does, as with :meth:`stop`.
        """
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)
        self._stop.set()  # wakes kopf's stop-flag watcher, a worker thread the loop's shutdown waits for
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """The operator's thread still runs (it has not finished stopping)."""
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> OperatorThread:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
