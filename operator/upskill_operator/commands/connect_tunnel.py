"""One TCP connection to a pod port through the Kubernetes port-forward API.

``kubernetes.stream.portforward`` opens a websocket (subprotocol ``v4.channel.k8s.io``) on
``pods/NAME/portforward?ports=PORT``: channel 0 carries the data, channel 1 the errors, and the first
frame on each names the port (two bytes, little-endian). One websocket per connection, as kubectl does.
"""

from __future__ import annotations

import asyncio
import os
import socket

from kubernetes.client.exceptions import ApiException
from kubernetes.stream import portforward

from upskill_operator.commands.connect_values import ConnectError, forbidden_reason
from upskill_operator.kube.client import Kube

__all__ = ["open_stream", "open_tunnel", "probe_tunnel"]

_FORBIDDEN = "Handshake status 403"


def open_tunnel(kube: Kube, namespace: str, pod: str, port: int) -> socket.socket:
    """A connected socket whose bytes go to ``pod``'s ``port`` (blocking: call from a thread)."""
    try:
        forward = portforward(kube.core.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port))
    except ApiException as exc:
        text = str(exc.reason or "")
        if _FORBIDDEN in text or exc.status == 403:
            raise ConnectError(
                f"port-forward to {namespace}/{pod} refused (403, {forbidden_reason(exc)}): RBAC must allow get and"
                " create on pods/portforward; see docs/dev.md (the upskill-developer ClusterRole)"
            ) from None
        raise ConnectError(f"port-forward to {namespace}/{pod}:{port} failed: {text.splitlines()[0][:200]}") from None
    wrapped = forward.socket(port)
    sock = socket.socket(fileno=os.dup(wrapped.fileno()))  # a plain socket object, for ssl/asyncio
    wrapped.close()
    return sock


async def open_stream(
    kube: Kube, namespace: str, pod: str, port: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    sock = await asyncio.to_thread(open_tunnel, kube, namespace, pod, port)
    sock.setblocking(False)
    return await asyncio.open_connection(sock=sock)


def probe_tunnel(kube: Kube, namespace: str, pod: str, port: int, wait: float = 1.0) -> bool:
    """Whether a connection through the tunnel stays open for ``wait`` seconds (the relay accepted it)."""
    sock = open_tunnel(kube, namespace, pod, port)
    try:
        sock.settimeout(wait)
        try:
            return sock.recv(1) != b""
        except TimeoutError:
            return True
    finally:
        sock.close()
