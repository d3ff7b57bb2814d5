"""The cluster path's pieces against the sandbox's TLS fronts (whose certificates name the AWS hosts).

The chain is the one ``connect`` builds on a cluster: the app (psycopg, node-pg) -> PgTlsRelay on
127.0.0.1 (local CA) -> the port-forward websocket (``kubernetes.stream.portforward``) -> a stand-in API
server speaking the port-forward protocol -> ``upskill-operator forward`` (the pod's relay, here a
process) -> the front of the RDS Proxy endpoint, its certificate verified with the delivered CA.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from upskill_operator.commands.connect_endpoints import endpoints, rewrite
from upskill_operator.commands.connect_forward import parse_route
from upskill_operator.commands.connect_pod import routes_for
from upskill_operator.commands.connect_tls import LocalCa, PgTlsRelay, upstream_context
from upskill_operator.commands.connect_tunnel import open_stream, open_tunnel, probe_tunnel
from upskill_operator.commands.connect_values import ConnectError
from upskill_operator.kube.client import Kube, load_configuration

from e2e.clients_support import run_node, secret_data
from e2e.conftest import wait_for
from e2e.connect_support import NAMESPACE, Stack, still_stack
from e2e.portforward_server import PROTOCOL, PortForwardServer, portforward_server
from e2e.test_connect_command import Running, parse_env_file

__all__ = ["still_stack"]  # the module's fixture

POD = "upskill-connect-test"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Tunnels:
    kube: Kube
    server: PortForwardServer
    loop: asyncio.AbstractEventLoop
    ca: LocalCa
    ca_path: Path
    rds_ca: str
    delivered: dict[str, str]
    local: dict[str, str]
    proxies: dict[str, int]
    stack: Stack

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def relay(self, host: str, pod_port: int, ca_bundle: str | None = None) -> PgTlsRelay:
        """What connect starts per endpoint: 127.0.0.1 -> the tunnel to ``pod_port``, ``host`` verified."""

        async def opener() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            return await open_stream(self.kube, NAMESPACE, POD, pod_port)

        upstream = upstream_context(ca_bundle or self.rds_ca)
        return self.run(PgTlsRelay(host, opener, self.ca.server_context(), upstream).start())


def as_on_a_cluster(delivered: dict[str, str]) -> tuple[dict[str, str], dict[str, tuple[str, int]]]:
    """The sandbox's values as a cluster delivers them: AWS proxy hosts on 5432, the CA at its pod path.

    Returns the values and, per AWS host, the sandbox front it stands for."""
    hosts: dict[tuple[str, int], str] = {}
    out = dict(delivered)
    for key, value in delivered.items():
        if not value.startswith("postgres"):
            continue
        url = urlsplit(value)
        front = (str(url.hostname), int(url.port or 5432))
        host = hosts.setdefault(front, f"db{len(hosts)}.proxy-c0ffee{len(hosts)}.us-east-1.rds.amazonaws.com")
        netloc = url.netloc.replace(f"{url.hostname}:{url.port}", f"{host}:5432")
        query = re.sub(r"sslrootcert=[^&]*", "sslrootcert=/etc/upskill/db-ca/ca.pem", url.query)
        out[key] = urlunsplit((url.scheme, netloc, url.path, query, url.fragment))
    return out, {host: front for front, host in hosts.items()}


@pytest.fixture(scope="module")
def tunnels(still_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tunnels]:
    """RDS Proxy stand-ins (certificates for their AWS host names from an "RDS" CA, relaying to the sandbox's
    fronts), ``upskill-operator forward`` routing pod ports to them, the port-forward stand-in, connect's relays."""
    workdir, stack = tmp_path_factory.mktemp("tunnels"), still_stack
    delivered, fronts = as_on_a_cluster(secret_data(stack.kube, NAMESPACE, "web-env"))
    routes = routes_for(endpoints(delivered))
    assert len(routes) >= 2, "the web values use the read/write and the read-only proxy endpoints"
    bed = upstream_context(Path(stack.plane.settings_overrides()["db_ca_bundle"]).read_text())
    bed.check_hostname = True
    rds = LocalCa(names=sorted(fronts))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def proxy(front: tuple[str, int]) -> int:
        async def opener() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            return await asyncio.open_connection(*front)

        relay = PgTlsRelay("localhost", opener, rds.server_context(), bed).start()
        return asyncio.run_coroutine_threadsafe(relay, loop).result(timeout=10).port

    proxies = {host: proxy(front) for host, front in fronts.items()}
    listen = {port: free_port() for port in routes}
    args = [a for port, e in routes.items() for a in ("--route", f"{listen[port]}=127.0.0.1:{proxies[e.host]}")]
    forward = subprocess.Popen([sys.executable, "-m", "upskill_operator", "forward", *args], stdout=subprocess.PIPE)
    targets = {(NAMESPACE, POD, port): ("127.0.0.1", listen[port]) for port in routes}
    try:
        assert forward.stdout is not None
        for _ in routes:
            assert forward.stdout.readline().startswith(b"forwarding 127.0.0.1:")
        with portforward_server(targets, forbidden={"not-mine"}) as server:
            (workdir / "kubeconfig").write_text(server.kubeconfig())
            kube = Kube(load_configuration(str(workdir / "kubeconfig")))
            ca, ca_path = LocalCa(), workdir / ".env.local.upskill-ca.pem"
            ca_path.write_bytes(ca.ca_pem())
            made = Tunnels(kube, server, loop, ca, ca_path, rds.ca_pem().decode(), delivered, {}, proxies, stack)
            ports = {e: made.relay(e.host, port).port for port, e in routes.items()}
            made.local = rewrite(delivered, ports, str(ca_path))
            yield made
            kube.close()
    finally:
        forward.terminate()
        forward.wait(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


def test_psycopg_verify_full_through_the_tunnel(tunnels: Tunnels) -> None:
    before = tunnels.server.opened
    for key in ("AUTH_DB_URL", "COURSE_DB_URL", "COURSE_DB_READ_URL"):
        assert "@127.0.0.1:" in tunnels.local[key]
        assert "sslmode=verify-full" in tunnels.local[key]
        with psycopg.connect(tunnels.local[key], connect_timeout=10) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,), key
            assert conn.info.pgconn.ssl_in_use
    assert tunnels.server.opened >= before + 3, "every connection went through the port-forward API"
    assert all(PROTOCOL in offered for offered in tunnels.server.protocols)


def test_node_pg_betterauth_and_kysely_through_the_tunnel(tunnels: Tunnels) -> None:
    env = {k: v for k, v in tunnels.local.items() if k in ("AUTH_DB_URL", "BETTER_AUTH_SECRET")}
    assert run_node("betterauth.mjs", env)["migrationsPending"] == 0
    result = run_node("kysely.mjs", tunnels.local)
    assert result["wrote"] == 5
    assert result["readOnlyWriteSqlstate"] == "25006", "the read URL reaches the read-only endpoint"


def _url_on(tunnels: Tunnels, relay: PgTlsRelay) -> str:
    url = tunnels.delivered["AUTH_DB_URL"]
    (endpoint,) = endpoints({"U": url})
    return rewrite({"U": url}, {endpoint: relay.port}, str(tunnels.ca_path))["U"]


def test_a_proxy_certificate_for_another_host_is_refused(tunnels: Tunnels) -> None:
    (endpoint,) = endpoints({"U": tunnels.delivered["AUTH_DB_URL"]})
    pod_port = next(p for p, e in routes_for(endpoints(tunnels.delivered)).items() if e == endpoint)
    impostor = tunnels.relay("other-db.proxy-zzz.us-east-1.rds.amazonaws.com", pod_port)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(_url_on(tunnels, impostor), connect_timeout=10).close()
    foreign_ca = LocalCa(names=[endpoint.host]).ca_pem().decode()  # right name, wrong CA
    untrusted = tunnels.relay(endpoint.host, pod_port, ca_bundle=foreign_ca)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(_url_on(tunnels, untrusted), connect_timeout=10).close()
    honest = tunnels.relay(endpoint.host, pod_port)
    with psycopg.connect(_url_on(tunnels, honest), connect_timeout=10) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_the_local_certificate_is_verified_by_the_client(tunnels: Tunnels, tmp_path: Path) -> None:
    other = tmp_path / "other-ca.pem"
    other.write_bytes(LocalCa().ca_pem())
    url = tunnels.local["AUTH_DB_URL"].replace(str(tunnels.ca_path), str(other))
    with pytest.raises(psycopg.OperationalError, match="SSL error"):  # same CA name, another key
        psycopg.connect(url, connect_timeout=10).close()


def test_a_client_without_tls_is_disconnected(tunnels: Tunnels) -> None:
    url = tunnels.local["AUTH_DB_URL"].replace("sslmode=verify-full", "sslmode=disable")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=10).close()


def test_a_port_forward_refused_by_rbac_says_what_is_missing(tunnels: Tunnels) -> None:
    with pytest.raises(ConnectError, match="pods/portforward") as caught:
        open_tunnel(tunnels.kube, NAMESPACE, "not-mine", 15432)
    assert "403" in str(caught.value)
    assert "RBAC refuses: cannot get pods/portforward" in str(caught.value), "the API's own reason, shortened"


def test_the_probe_tells_a_listening_pod_port_from_a_dead_one(tunnels: Tunnels) -> None:
    (pod_port, _), *_ = routes_for(endpoints(tunnels.delivered)).items()
    assert probe_tunnel(tunnels.kube, NAMESPACE, POD, pod_port)
    assert not probe_tunnel(tunnels.kube, NAMESPACE, POD, 19999)


def test_each_channel_frame_carries_the_port(tunnels: Tunnels) -> None:
    """A raw tunnel socket: bytes reach the pod's relay and the proxy behind it, which answers SSLRequest."""
    (pod_port, endpoint), *_ = routes_for(endpoints(tunnels.delivered)).items()
    sock = open_tunnel(tunnels.kube, NAMESPACE, POD, pod_port)
    try:
        sock.sendall(b"\x00\x00\x00\x08\x04\xd2\x16\x2f")  # SSLRequest, straight to the front
        sock.settimeout(10)
        assert sock.recv(1) == b"S", f"{endpoint} offers TLS through the tunnel"
    finally:
        sock.close()


def test_connect_on_a_cluster_end_to_end(tunnels: Tunnels, tmp_path: Path) -> None:
    """connect itself, pointed at a gateway that keeps pods (the emulator has none) and speaks port-forward,
    routing each pod port as the pod's relay would: pod started, tunnels up, a rotation, Ctrl-C, pod gone."""
    kube, web = tunnels.stack.kube, secret_data(tunnels.stack.kube, NAMESPACE, "web-env")
    ca_map = kube.get("v1", "configmaps", NAMESPACE, "upskill-db-ca")
    assert ca_map is not None

    def put(data: dict[str, str], ca: str) -> None:
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
        secret = kube.get("v1", "secrets", NAMESPACE, "web-env")
        kube.apply_manifest({**(secret or {}), "data": encoded})
        kube.apply_manifest({**ca_map, "data": {"ca.pem": ca}})

    def route(pod: dict[str, Any], port: int) -> tuple[str, int] | None:
        args = pod["spec"]["containers"][0]["args"]
        routes = {listen: host for listen, host, _ in map(parse_route, args[2::2])}
        return ("127.0.0.1", tunnels.proxies[routes[port]]) if port in routes else None

    put(tunnels.delivered, tunnels.rds_ca)
    env_file = tmp_path / ".env.local"
    chosen = ["usecret/auth-db-url", "usecret/course-db-url", "usecret/course-db-read-url"]
    try:
        with portforward_server({}, upstream=kube.url, route=route) as gateway:
            (tmp_path / "kubeconfig").write_text(gateway.kubeconfig())
            env = {k: os.environ[k] for k in ("PATH", "HOME")} | {"KUBECONFIG": str(tmp_path / "kubeconfig")}
            argv = ["connect", *chosen, "--env-file", str(env_file), "--interval", "0.5", "--image", "reg/op:1"]
            running = Running(argv, env)
            try:
                wait_for(lambda: any("tunnels up" in line for line in running.lines), 60, f"up: {running.lines}")
                (pod,) = gateway.pods.values()
                assert pod["spec"]["containers"][0]["image"] == "reg/op:1"
                local = parse_env_file(env_file)
                assert "@127.0.0.1:" in local["AUTH_DB_URL"]
                with psycopg.connect(local["AUTH_DB_URL"], connect_timeout=10) as conn:
                    assert conn.execute("SELECT current_user").fetchone() == ("better_auth",)
                assert run_node("kysely.mjs", local)["readOnlyWriteSqlstate"] == "25006"
                rotated = {
                    **tunnels.delivered,
                    "AUTH_DB_URL": tunnels.delivered["AUTH_DB_URL"] + "&application_name=r2",
                }
                put(rotated, tunnels.rds_ca)
                wait_for(lambda: any("AUTH_DB_URL" in line for line in running.lines if "changed" in line), 30, "told")
                assert "application_name=r2" in parse_env_file(env_file)["AUTH_DB_URL"]
                with psycopg.connect(parse_env_file(env_file)["AUTH_DB_URL"], connect_timeout=10) as conn:
                    assert conn.execute("SELECT 1").fetchone() == (1,)
            finally:
                code = running.stop()
            assert code == 0, "\n".join(running.lines)
            assert gateway.deleted == [pod["metadata"]["name"]], "the forwarder pod is deleted on Ctrl-C"
            assert not gateway.pods
    finally:
        put(web, Path(tunnels.stack.plane.settings_overrides()["db_ca_bundle"]).read_text())
    output = "\n".join(running.lines)
    assert "waiting for pod" in output, "progress while the pod starts"
    assert "Traceback" not in output
    password = urlsplit(tunnels.delivered["AUTH_DB_URL"]).password
    assert password
    assert password not in output
