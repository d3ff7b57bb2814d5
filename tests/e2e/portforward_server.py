"""A stand-in for the API server's ``pods/NAME/portforward`` websocket, for the tunnel tests.

It speaks what kube-apiserver speaks: subprotocol ``v4.channel.k8s.io`` only, one port per request
(``?ports=N``), channel 0 data and channel 1 errors, each channel's first frame the port as two
little-endian bytes, client frames prefixed with their channel byte. Each (namespace, pod, port) maps to
a local TCP address (what the pod's relay would reach). A bearer token is required; a pod listed in
``forbidden`` is refused the way RBAC refuses (403 with a Status naming the verb and resource).
"""

from __future__ import annotations

import asyncio
import json
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, WSMsgType, web

__all__ = ["PROTOCOL", "TOKEN", "PortForwardServer", "portforward_server"]

PROTOCOL = "v4.channel.k8s.io"
TOKEN = "developer-token"


@dataclass
class PortForwardServer:
    targets: dict[tuple[str, str, int], tuple[str, int]]
    forbidden: set[str] = field(default_factory=set)
    url: str = ""
    opened: int = 0
    protocols: list[str] = field(default_factory=list)
    upstream: str | None = None
    """With an upstream (the Kubernetes emulator): a gateway that keeps pods itself (the emulator has none)
    and passes every other request through."""
    pods: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    route: Callable[[dict[str, Any], int], tuple[str, int] | None] | None = None
    """(pod, port) -> where the pod's relay would take that port; for pods the gateway keeps."""

    def kubeconfig(self) -> str:
        return (
            "apiVersion: v1\nkind: Config\ncurrent-context: dev\n"
            f"clusters: [{{name: c, cluster: {{server: '{self.url}'}}}}]\n"
            f"users: [{{name: dev, user: {{token: {TOKEN}}}}}]\n"
            "contexts: [{name: dev, context: {cluster: c, user: dev, namespace: upskill}}]\n"
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        namespace, pod = request.match_info["namespace"], request.match_info["pod"]
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"kind": "Status", "code": 401, "reason": "Unauthorized"}, status=401)
        if pod in self.forbidden:
            message = (
                f'pods "{pod}" is forbidden: User "dev" cannot get resource "pods/portforward" '
                f'in API group "" in the namespace "{namespace}"'
            )
            return web.json_response(
                {"kind": "Status", "code": 403, "reason": "Forbidden", "message": message}, status=403
            )
        port = int(request.query["ports"])
        self.protocols.append(request.headers.get("Sec-WebSocket-Protocol", ""))
        ws = web.WebSocketResponse(protocols=(PROTOCOL,))
        await ws.prepare(request)
        if ws.ws_protocol != PROTOCOL:
            await ws.close()
            return ws
        header = struct.pack("<H", port)
        await ws.send_bytes(b"\x00" + header)
        await ws.send_bytes(b"\x01" + header)
        target = self.targets.get((namespace, pod, port))
        kept = self.pods.get((namespace, pod))
        if target is None and kept is not None and self.route is not None:
            target = self.route(kept, port)
        try:
            if target is None:
                raise ConnectionRefusedError(f"no listener on port {port}")
            reader, writer = await asyncio.open_connection(*target)
        except OSError as exc:
            await ws.send_bytes(b"\x01" + f"error forwarding port {port} to pod {pod}: {exc}".encode())
            await ws.close()
            return ws
        self.opened += 1

        async def upstream() -> None:
            while data := await reader.read(65536):
                await ws.send_bytes(b"\x00" + data)
            await ws.close()

        task = asyncio.create_task(upstream())
        async for message in ws:
            if message.type == WSMsgType.BINARY and message.data[:1] == b"\x00":
                writer.write(message.data[1:])
                await writer.drain()
        writer.close()
        task.cancel()
        return ws

    async def create_pod(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        key = (request.match_info["namespace"], body["metadata"]["name"])
        body["status"] = {"phase": "Pending"}
        self.pods[key] = body
        return web.json_response(body, status=201)

    async def read_pod(self, request: web.Request) -> web.StreamResponse:
        """Pending (ContainerCreating) on the first read, Running after: the kubelet starting it."""
        pod = self.pods.get((request.match_info["namespace"], request.match_info["pod"]))
        if pod is None:
            return web.json_response({"kind": "Status", "code": 404, "reason": "NotFound"}, status=404)
        shown = json.loads(json.dumps(pod))
        if pod["status"]["phase"] == "Pending":
            waiting = {"state": {"waiting": {"reason": "ContainerCreating"}}, "name": "forward", "ready": False}
            shown["status"]["containerStatuses"] = [{**waiting, "image": "i", "imageID": "", "restartCount": 0}]
            pod["status"]["phase"] = "Running"
        return web.json_response(shown)

    async def delete_pod(self, request: web.Request) -> web.StreamResponse:
        key = (request.match_info["namespace"], request.match_info["pod"])
        pod = self.pods.pop(key, None)
        if pod is None:
            return web.json_response({"kind": "Status", "code": 404, "reason": "NotFound"}, status=404)
        self.deleted.append(key[1])
        return web.json_response(pod)  # as kube-apiserver answers a pod's DELETE: the pod, terminating

    async def pass_through(self, request: web.Request) -> web.StreamResponse:
        assert self.upstream is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "accept")}
        async with (
            ClientSession() as session,
            session.request(
                request.method, self.upstream + request.path_qs, data=await request.read(), headers=headers
            ) as answer,
        ):
            body = await answer.read()
            return web.Response(body=body, status=answer.status, content_type=answer.content_type)


@contextmanager
def portforward_server(
    targets: dict[tuple[str, str, int], tuple[str, int]],
    forbidden: set[str] | None = None,
    upstream: str | None = None,
    route: Callable[[dict[str, Any], int], tuple[str, int] | None] | None = None,
) -> Iterator[PortForwardServer]:
    """The server on 127.0.0.1 (an ephemeral port), in its own thread and event loop."""
    server = PortForwardServer(targets, forbidden or set(), upstream=upstream, route=route)
    loop = asyncio.new_event_loop()
    app = web.Application()
    pods = "/api/v1/namespaces/{namespace}/pods"
    app.router.add_get(pods + "/{pod}/portforward", server.handle)
    if upstream is not None:
        app.router.add_post(pods, server.create_pod)
        app.router.add_get(pods + "/{pod}", server.read_pod)
        app.router.add_delete(pods + "/{pod}", server.delete_pod)
        app.router.add_route("*", "/{tail:.*}", server.pass_through)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    server.url = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.run_until_complete(runner.cleanup())
        loop.close()
