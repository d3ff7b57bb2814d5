"""The PostgreSQL prober: ``SELECT 1`` through a one-connection psycopg pool.

The pool keeps exactly one connection per endpoint and replaces it when it breaks; the prober holds
that connection between probes and gives it back to the pool only when a probe fails, so a probe
is one round trip on a warm connection, as an app through RDS Proxy would see it. The
connection runs in autocommit with server-side prepares off: one probe is one round trip, and
it never leaves a transaction open. ``connect_timeout`` and ``statement_timeout`` bound the
server side; :class:`~upskill_operator.probes.window.ProbeSet` bounds the client side.

Credentials come from an async callable, asked before every new connection, so a fresh IAM auth
token (valid 15 minutes) is used whenever the pool reconnects.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from upskill_operator.probes.window import ProbeFailure

__all__ = ["ConnectKwargs", "PostgresProber"]

ConnectKwargs = Callable[[], Awaitable[dict[str, Any]]]
"""Extra connection parameters fetched per connection attempt, e.g. ``{"password": token}``."""


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _recording(sink: list[BaseException]) -> type[psycopg.AsyncConnection[Any]]:
    """A connection class that remembers why the last connection attempt failed."""

    class Recording(psycopg.AsyncConnection[Any]):
        @classmethod
        async def connect(cls, *args: Any, **kwargs: Any) -> Recording:  # type: ignore[override]
            try:
                conn = await super().connect(*args, **kwargs)
            except psycopg.Error as exc:
                sink[:] = [exc]
                raise
            sink.clear()
            return conn

    return Recording


class PostgresProber:
    """Probes one PostgreSQL endpoint (a conninfo string or URL plus per-connection kwargs)."""

    def __init__(
        self,
        endpoint: str,
        conninfo: str,
        *,
        connect_kwargs: ConnectKwargs | None = None,
        timeout_seconds: float = 5.0,
        query: str = "SELECT 1",
    ) -> None:
        self.endpoint = endpoint
        self._query = query.encode()
        self._timeout = timeout_seconds
        self._extra = connect_kwargs
        self._last_connect_error: list[BaseException] = []
        self._opened = False
        self._conn: psycopg.AsyncConnection[Any] | None = None
        """The pool's one connection, held between probes: a probe is one round trip, no pool hand-over."""
        self._due_back = 0.0
        self.pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            conninfo,
            connection_class=_recording(self._last_connect_error),
            kwargs=self._kwargs,
            configure=self._configure,
            min_size=1,
            max_size=1,
            open=False,
            timeout=timeout_seconds,
            reconnect_timeout=max(60.0, timeout_seconds * 4),
            max_idle=3600.0,
            num_workers=1,
            name=f"upskill-probe-{endpoint}",
        )

    async def _kwargs(self) -> dict[str, Any]:
        extra = await self._extra() if self._extra is not None else {}
        return {
            "autocommit": True,
            "prepare_threshold": None,
            "connect_timeout": max(1, math.ceil(self._timeout)),
            "application_name": "upskill-operator-probe",
            **extra,
        }

    async def _configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        millis = max(1, round(self._timeout * 1000))
        await conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(millis)))

    def _connect_failure(self) -> ProbeFailure:
        last = self._last_connect_error[0] if self._last_connect_error else None
        if last is None:
            return ProbeFailure("connect", f"no connection within {self._timeout:g}s")
        sqlstate = getattr(last, "sqlstate", None) or ""
        reason = "auth" if sqlstate.startswith("28") else "connect"
        return ProbeFailure(reason, f"cannot connect: {_first_line(last)}")

    @property
    def connection(self) -> psycopg.AsyncConnection[Any] | None:
        """The connection held between probes (None before the first probe and after a failure)."""
        return self._conn

    async def _checkout(self) -> psycopg.AsyncConnection[Any]:
        if not self._opened:
            await self.pool.open(wait=False)
            self._opened = True
        try:
            self._conn = await self.pool.getconn(timeout=self._timeout)
        except PoolTimeout:
            raise self._connect_failure() from None
        self._due_back = time.monotonic() + self.pool.max_lifetime
        return self._conn

    async def _release(self) -> None:
        """Give the held connection back: the pool keeps it if it is still good, or replaces it."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await self.pool.putconn(conn)

    async def probe(self) -> float:
        if self._conn is not None and time.monotonic() >= self._due_back:
            await self._release()  # past the pool's max_lifetime: the pool retires it and connects afresh
        conn = self._conn or await self._checkout()
        answered = False
        try:
            started = time.perf_counter()
            await conn.execute(self._query)
            elapsed = time.perf_counter() - started
            answered = True
            return elapsed
        except psycopg.Error as exc:
            raise _failure(exc, self._timeout) from None
        finally:
            if not answered:  # failed or cancelled: the pool checks the connection and replaces it if broken
                await self._release()

    async def close(self) -> None:
        await self._release()
        await self.pool.close(timeout=self._timeout)


def _failure(exc: psycopg.Error, timeout: float) -> ProbeFailure:
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return ProbeFailure("timeout", f"statement_timeout ({timeout:g}s) cancelled the probe")
    if isinstance(exc, psycopg.OperationalError):
        return ProbeFailure("unavailable", f"connection lost: {_first_line(exc)}")
    return ProbeFailure("query", f"{exc.sqlstate or 'error'}: {_first_line(exc)}")
