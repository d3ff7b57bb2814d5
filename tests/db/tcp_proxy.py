"""A TCP front for the test PostgreSQL (the embedded one has a unix socket only) that tests can slow or stop.

It runs on its own event loop in a thread, so sync and async tests can use it alike:

* ``delay`` seconds are added before every chunk the server sends back (a slow server or network);
* ``stop()`` closes the listener and cuts every open connection (the server went away), and
  ``start()`` listens again on the same port (it came back).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Coroutine
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo


def upstream(url: str) -> tuple[str, int]:
    """(host, port) of a server URL; the host is a socket folder for ``postgresql://...?host=/dir``."""
    info = conninfo_to_dict(url)
    return str(info.get("host") or "localhost"), int(info.get("port") or 5432)


def endpoint_target(url: str) -> str:
    """The server as a ``Settings.endpoint_map`` target: ``/socket/dir:port`` or ``host:port``."""
    host, port = upstream(url)
    return f"{host}:{port}"


class TcpProxy:
    def __init__(self, url: str) -> None:
        self.upstream = upstream(url)
        self.delay = 0.0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def start(self) -> None:
        async def listen() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

        self._run(listen())

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
                self._server = None
            for writer in list(self._writers):
                writer.close()
            self._writers.clear()

        self._run(close())

    @property
    def open_connections(self) -> int:
        return len(self._writers) // 2

    def url(self, base: str) -> str:
        """``base`` (the server's URL) with its host and port replaced by the proxy's."""
        return make_conninfo(base, host="127.0.0.1", port=str(self.port))

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            host, port = self.upstream
            if host.startswith("/"):
                server_reader, server_writer = await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
            else:
                server_reader, server_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        self._writers |= {client_writer, server_writer}
        await asyncio.gather(
            self._pipe(client_reader, server_writer, 0.0),
            self._pipe(server_reader, client_writer, None),
            return_exceptions=True,
        )
        self._writers -= {client_writer, server_writer}

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float | None) -> None:
        try:
            while data := await reader.read(65536):
                pause = self.delay if delay is None else delay
                if pause:
                    await asyncio.sleep(pause)
                writer.write(data)
                await writer.drain()
        finally:
            with contextlib.suppress(Exception):
                writer.close()
