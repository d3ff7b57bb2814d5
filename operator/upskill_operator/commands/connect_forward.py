"""``upskill-operator forward``: the TCP relay the forwarder pod runs (``--route LISTEN=HOST:PORT``).

It listens on the pod's loopback only (the port-forward API connects there) and copies bytes both
ways; TLS stays end to end between ``connect`` and the proxy, so nothing here sees a value. Imports
only the standard library: it starts in a small memory limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable

__all__ = ["parse_route", "run", "serve"]

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def parse_route(text: str) -> tuple[int, str, int]:
    """``15432=host:5432`` -> (15432, host, 5432)."""
    listen, sep, target = text.partition("=")
    host, colon, port = target.rpartition(":")
    if not sep or not colon or not host or not listen.isdigit() or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected LISTEN=HOST:PORT")
    return int(listen), host, int(port)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


def _handler(host: str, port: int, timeout: float) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, TimeoutError) as exc:
            print(f"cannot reach {host}:{port}: {type(exc).__name__}", file=sys.stderr, flush=True)
            writer.close()
            return
        await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))

    return handle


async def serve(routes: list[tuple[int, str, int]], listen_host: str = "127.0.0.1", timeout: float = 10.0) -> None:
    servers = [
        await asyncio.start_server(_handler(host, port, timeout), listen_host, listen) for listen, host, port in routes
    ]
    for listen, host, port in routes:
        print(f"forwarding {listen_host}:{listen} to {host}:{port}", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


def run(args: argparse.Namespace) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(list(args.route), timeout=args.timeout))
    return 0
