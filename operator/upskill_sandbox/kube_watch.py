"""Watch streams (``?watch=true``) served from the store's replayable history.

Semantics of the real server that kopf and the ``kubernetes`` client rely on:

* no ``resourceVersion`` (or ``"0"``): synthetic ``ADDED`` events for the current objects, then
  live events; since the list and the cursor come from one snapshot, nothing is lost in between;
* a ``resourceVersion``: every event after it, then live events; a version older than the retained
  history (or newer than the latest) gives one ``ERROR`` event with a 410 Status
  (reason ``Expired``, as the real server sends for watches) and the stream ends;
* ``timeoutSeconds`` ends the stream cleanly; selectors turn modifications that move an object in or
  out of the selection into ``ADDED``/``DELETED``, as the real watch cache does;
* a stream ends when the server stops, or about a second after its resource goes away (its CRD is
  deleted): kube-apiextensions-apiserver tears a CRD's storage down, ending its watches, only after
  a one-second drain. Controllers (kopf's CRD observer) see the CRD's DELETED event first and stop
  watching, instead of re-watching straight into a 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from typing import Any

import aiohttp.web
import attrs

from upskill_sandbox import kube_errors
from upskill_sandbox.kube_ops import Cluster
from upskill_sandbox.kube_resources import ResourceDef
from upskill_sandbox.kube_store import Event

__all__ = ["GONE_GRACE_SECONDS", "Render", "WatchHub", "WatchStream", "serve_watch"]

GONE_GRACE_SECONDS = 1.0
"""How long the watches of a resource whose CRD was deleted stay open (the real server's drain)."""

Match = Callable[[dict[str, Any]], bool]
Render = Callable[[dict[str, Any]], dict[str, Any]]  # a stored object as this watcher is served it


@attrs.define(eq=False)
class WatchStream:
    path: str
    dropped: bool = False


class WatchHub:
    """Wakes every open stream on each write; drops or ends streams on request. Loop-thread only."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()
        self.closing = False
        self.streams: set[WatchStream] = set()

    def waiter(self) -> asyncio.Event:
        return self._changed

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def drop(self, path: re.Pattern[str] | None = None) -> int:
        """Cut the open streams whose path matches (all if None); returns how many."""
        dropped = [s for s in self.streams if path is None or path.search(s.path)]
        for stream in dropped:
            stream.dropped = True
        self.notify()
        return len(dropped)

    def close(self) -> None:
        self.closing = True
        self.notify()


def _event_type(event: Event, match: Match) -> str | None:
    """What a watcher with this selection sees of the event, if anything."""
    now_in = match(event.obj)
    was_in = event.old is not None and match(event.old)
    if event.type == "ADDED":
        return "ADDED" if now_in else None
    if event.type == "DELETED":
        return "DELETED" if now_in or was_in else None
    if now_in:
        return "MODIFIED" if was_in else "ADDED"
    return "DELETED" if was_in else None


def _line(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _cut(raw: aiohttp.web.BaseRequest) -> None:
    """Drop the connection abruptly, as a network failure or an API server restart would."""
    if raw.transport is not None:
        raw.transport.abort()


async def serve_watch(
    hub: WatchHub,
    cluster: Cluster,
    raw: aiohttp.web.BaseRequest,
    rdef: ResourceDef,
    render: Render,
    match: Match,
    *,
    cut_after_initial: bool = False,
) -> aiohttp.web.StreamResponse:
    """Stream events of one resource (already scoped by ``match``) until timeout, drop or shutdown."""
    rv_text = raw.query.get("resourceVersion", "")
    if rv_text not in ("", "0") and not rv_text.isdigit():
        raise kube_errors.bad_request(f"resourceVersion: Invalid value: {json.dumps(rv_text)}: must be a number")
    timeout = _timeout(raw.query.get("timeoutSeconds"))
    response = aiohttp.web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(raw)
    stream = WatchStream(raw.path)
    hub.streams.add(stream)
    try:
        if rv_text in ("", "0"):
            cursor, items = cluster.store.snapshot(rdef.key, None)
            for obj in items:
                if match(obj):
                    await response.write(_line("ADDED", render(obj)))
        else:
            cursor = int(rv_text)
        if cut_after_initial:
            _cut(raw)
            return response
        await _follow(hub, cluster, raw, response, stream, rdef, render, match, cursor, timeout)
    except ConnectionResetError:
        return response  # the client went away
    finally:
        hub.streams.discard(stream)
    return response


def _timeout(text: str | None) -> float | None:
    if text is None or text == "":
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        raise kube_errors.bad_request(f"timeoutSeconds: Invalid value: {json.dumps(text)}") from None


async def _follow(
    hub: WatchHub,
    cluster: Cluster,
    raw: aiohttp.web.BaseRequest,
    response: aiohttp.web.StreamResponse,
    stream: WatchStream,
    rdef: ResourceDef,
    render: Render,
    match: Match,
    cursor: int,
    timeout: float | None,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout if timeout is not None else None
    gone_at: float | None = None
    while True:
        waiter = hub.waiter()
        if stream.dropped:
            _cut(raw)
            return
        if cluster.registry.find(rdef.key) is None and gone_at is None:
            gone_at = loop.time()
            ends = gone_at + GONE_GRACE_SECONDS
            deadline = ends if deadline is None else min(deadline, ends)
        if hub.closing:
            break
        try:
            events = cluster.store.events_after(cursor)
        except kube_errors.ApiError as exc:
            await response.write(_line("ERROR", kube_errors.status_body(exc.status, exc.reason, exc.message)))
            break
        for event in events:
            cursor = event.rv
            kind = _event_type(event, match) if event.resource == rdef.key else None
            if kind is not None:
                await response.write(_line(kind, render(event.obj)))
        remaining = deadline - loop.time() if deadline is not None else None
        if remaining is not None and remaining <= 0:
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), remaining)
    await response.write_eof()
