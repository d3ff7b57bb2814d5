"""Where a prober's blocking calls run: a pool the caller chooses (the operator's probe loops have their own)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, TypeVar

__all__ = ["Offload", "in_thread"]

T = TypeVar("T")


class Offload(Protocol):
    """Run blocking ``work`` off the event loop and await its result."""

    async def __call__(self, work: Callable[[], T]) -> T: ...


async def in_thread(work: Callable[[], T]) -> T:
    """The default: the event loop's default pool (one-shot commands such as ``check``)."""
    return await asyncio.to_thread(work)
