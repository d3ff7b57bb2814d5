"""``upskill-operator connect``: the values a namespace's apps get, in a local env file, with working tunnels.

Sandbox (the kubeconfig context carries ``upskill.io/sandbox``): the bed is local, so the values are
written as delivered, plus the bed's AWS endpoint and test credentials. Cluster: one forwarder pod in the
namespace relays to every proxy endpoint; each endpoint gets a local TLS relay (connect_tls) reached
through the port-forward API (connect_tunnel), and the values are rewritten to 127.0.0.1. Either way the
delivered values are re-read every ``--interval`` seconds: a change (a rotation) rewrites the file and
names the keys that changed. Ctrl-C (or SIGTERM) closes the tunnels, deletes the pod and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from upskill_operator.commands.connect_endpoints import Endpoint, endpoints, region_of, rewrite
from upskill_operator.commands.connect_envfile import changed_keys, write_env_file
from upskill_operator.commands.connect_pod import create_pod, delete_pod, forwarder_pod, routes_for, wait_running
from upskill_operator.commands.connect_tunnel import open_stream, probe_tunnel
from upskill_operator.commands.connect_values import ConnectError, Delivered, collect
from upskill_operator.commands.kubeopts import KubeError, open_cluster, require_namespace
from upskill_operator.commands.sandbox_context import sandbox_extension
from upskill_operator.kube.client import Kube

if TYPE_CHECKING:
    from upskill_operator.commands.connect_tls import LocalCa

__all__ = ["run", "sandbox_values"]

Values = dict[str, str]


def _say(line: str) -> None:
    print(line, flush=True)


def _kubeconfig_path(given: Path | None) -> str:
    """Where the sandbox extension is looked for: --kubeconfig, else the first file of $KUBECONFIG, else
    ~/.kube/config."""
    if given:
        return str(given)
    listed = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return listed[0] if listed else str(Path.home() / ".kube" / "config")


def sandbox_values(delivered: Delivered, extension: dict[str, Any]) -> Values:
    """The values as delivered, plus what the bed's AWS needs (endpoint, region, its test credentials)."""
    aws = {
        "AWS_ENDPOINT_URL": extension.get("awsEndpointUrl"),
        "AWS_REGION": extension.get("region"),
        "AWS_ACCESS_KEY_ID": extension.get("accessKeyId"),
        "AWS_SECRET_ACCESS_KEY": extension.get("secretAccessKey"),
    }
    return {**delivered.values, **{k: str(v) for k, v in aws.items() if v}}


def _write(path: Path, values: Values, before: Values | None) -> None:
    write_env_file(path, values)
    if before is None:
        _say(f"wrote {path} ({len(values)} keys)")
    elif changed := changed_keys(before, values):
        _say(f"values changed (rotation?): rewrote {path}; changed keys: {', '.join(changed)}")


def _watch(read: Callable[[], Values], path: Path, values: Values, interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            fresh = read()
        except ConnectError as exc:
            _say(f"warning: {exc}; keeping {path} as it is")
            continue
        if fresh != values:
            _write(path, fresh, values)
            values = fresh


def _sandbox(kube: Kube, args: argparse.Namespace, namespace: str, extension: dict[str, Any]) -> int:
    def read() -> Values:
        return sandbox_values(collect(kube, namespace, args.resource), extension)

    values = read()
    _say(f"sandbox context: values as delivered from namespace {namespace} (no tunnels: the bed is local)")
    _write(args.env_file, values, None)
    if args.once:
        return 0
    _say("watching for changes; Ctrl-C to stop")
    _watch(read, args.env_file, values, args.interval)
    return 0


async def _relays(kube: Kube, namespace: str, pod: str, delivered: Delivered, ca: LocalCa) -> dict[Endpoint, int]:
    from upskill_operator.commands.connect_tls import PgTlsRelay, upstream_context

    local, upstream = ca.server_context(), upstream_context(delivered.ca_bundle or "")
    ports: dict[Endpoint, int] = {}
    for pod_port, endpoint in routes_for(endpoints(delivered.values)).items():

        async def opener(pod_port: int = pod_port) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            return await open_stream(kube, namespace, pod, pod_port)

        relay = await PgTlsRelay(endpoint.host, opener, local, upstream, _say).start()
        ports[endpoint] = relay.port
        _say(f"tunnel {endpoint} -> 127.0.0.1:{relay.port} (TLS verified against the delivered CA)")
    return ports


def _cluster(kube: Kube, args: argparse.Namespace, namespace: str) -> int:
    if args.once:
        raise ConnectError("--once is for the sandbox: on a cluster the tunnels close when connect exits")
    delivered = collect(kube, namespace, args.resource)
    found = endpoints(delivered.values)
    if found and not delivered.ca_bundle:
        raise ConnectError(f"ConfigMap upskill-db-ca is missing in {namespace}: the proxy cannot be verified")
    try:
        from upskill_operator.commands.connect_tls import LocalCa
    except ImportError:
        raise ConnectError("the tunnels need cryptography: pip install 'upskill-operator[connect]'") from None
    ca, ca_path = LocalCa(), args.env_file.parent / f"{args.env_file.name}.upskill-ca.pem"
    ca_path.write_bytes(ca.ca_pem())
    region = region_of(delivered.values)

    def local_values(d: Delivered, ports: dict[Endpoint, int]) -> Values:
        values = rewrite(d.values, ports, str(ca_path.resolve()))
        return {**values, "AWS_REGION": region} if region else values

    pod = ""
    try:
        if found:
            manifest = forwarder_pod(namespace, args.image, routes_for(found), int(args.max_hours * 3600))
            pod = create_pod(kube, manifest)
            _say(f"created forwarder pod {namespace}/{pod} for {', '.join(map(str, found))}")
            wait_running(kube, namespace, pod, args.timeout, _say)
            for port in routes_for(found):
                deadline = time.monotonic() + args.timeout
                while not probe_tunnel(kube, namespace, pod, port):
                    if time.monotonic() > deadline:
                        raise ConnectError(f"the forwarder pod {pod} does not accept on port {port}")
                    time.sleep(1)
        asyncio.run(_serve(kube, args, namespace, pod, delivered, ca, local_values))
    finally:
        if pod:
            delete_pod(kube, namespace, pod)
            _say(f"deleted forwarder pod {namespace}/{pod}")
    return 0


async def _serve(
    kube: Kube,
    args: argparse.Namespace,
    namespace: str,
    pod: str,
    delivered: Delivered,
    ca: LocalCa,
    local_values: Callable[[Delivered, dict[Endpoint, int]], Values],
) -> None:
    ports = await _relays(kube, namespace, pod, delivered, ca) if pod else {}
    values = local_values(delivered, ports)
    _write(args.env_file, values, None)
    _say("tunnels up; watching for changes; Ctrl-C to stop")
    warned: set[Endpoint] = set()
    while True:
        await asyncio.sleep(args.interval)
        try:
            fresh_delivered = await asyncio.to_thread(collect, kube, namespace, args.resource)
        except ConnectError as exc:
            _say(f"warning: {exc}; keeping {args.env_file} as it is")
            continue
        new = sorted(set(endpoints(fresh_delivered.values)) - set(ports) - warned)
        if new:
            _say(f"warning: new endpoints {', '.join(map(str, new))} have no tunnel: restart connect")
            warned.update(new)
        fresh = local_values(fresh_delivered, ports)
        if fresh != values:
            _write(args.env_file, fresh, values)
            values = fresh


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop) if main else None
    kube: Kube | None = None
    try:
        cluster = open_cluster(args)
        kube, namespace = cluster.kube, cluster.namespace
        require_namespace(cluster, namespace)
        extension = sandbox_extension(_kubeconfig_path(args.kubeconfig), cluster.context)
        if extension is not None:
            return _sandbox(kube, args, namespace, extension)
        return _cluster(kube, args, namespace)
    except (ConnectError, KubeError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        _say("stopped")
        return 0
    finally:
        if kube is not None:
            kube.close()
        if main:
            signal.signal(signal.SIGTERM, previous)
