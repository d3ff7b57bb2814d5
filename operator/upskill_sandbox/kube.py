"""An emulated Kubernetes API server on a real HTTP port, for the sandbox and the tests.

:class:`KubeServer` runs :class:`~upskill_sandbox.kube_emulator.KubeEmulator` (kmock's
``KubernetesEmulator`` made faithful: see that module and :mod:`kube_ops`) in a daemon thread with
its own event loop, so that kopf, the ``kubernetes`` client and kubectl can talk to it from any
thread or process. Typical use::

    with KubeServer() as kube:
        kube.write_kubeconfig(tmp_path / "kubeconfig")
        kube.apply_manifest(crd)

Never import this module from the operator's runtime code: only the sandbox CLI and tests do.
Methods other than :meth:`start`/:meth:`stop` must not be called from the server's own loop.

Where it knowingly differs from a real API server (each kept simple on purpose):

* no authentication or authorization; no admission webhooks; no controllers except the ones the
  semantics need (CRD registration, namespace termination, ownerReference garbage collection, all
  synchronous); Deployments and the like get no status from anyone;
* JSON everywhere, plus protobuf *request* bodies for Namespace/ConfigMap/Secret/ServiceAccount
  (what ``kubectl create ...`` sends); server-side apply (``apply-patch+yaml``) answers 415;
* strategic merge patch replaces lists instead of merging them by key;
* multi-version CRDs share one stored object (no conversion: only ``apiVersion`` changes);
  the status subresource and printer columns are per CRD, not per version; ``/scale`` is not served;
* ``format`` in schemas is not checked; CEL: see :mod:`kube_cel` for the supported subset;
* list pages (``limit``/``continue``) are not snapshot-consistent; watches never send BOOKMARKs;
  the watch history keeps the last ``history_limit`` events (older versions give 410 ``Expired``).
"""

from __future__ import annotations

import asyncio
import copy
import json
import pathlib
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from types import TracebackType
from typing import Any, Self

import aiohttp.web
import yaml

from upskill_operator.generate import kubectl_yaml
from upskill_sandbox.kube_emulator import KubeEmulator
from upskill_sandbox.kube_traffic import Fault, RequestLog

__all__ = ["KubeApiError", "KubeServer"]

CONTEXT = "upskill-sandbox"


class KubeApiError(RuntimeError):
    """An :meth:`KubeServer.apply_manifest` call answered with a failure Status."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body.get('reason')}: {body.get('message')}")
        self.status = status
        self.body = body


class KubeServer:
    """The emulated API server, served over HTTP from a background thread (see the module docstring)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, history_limit: int = 10_000) -> None:
        self.host = host
        self.port = port
        self.emulator = KubeEmulator(history_limit=history_limit)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def requests(self) -> RequestLog:
        """Every request served as ``(METHOD, path)``; has ``count(method, path_regex)`` and ``clear()``."""
        return self.emulator.traffic

    def start(self) -> KubeServer:
        """Start serving; returns once the port accepts connections."""
        if self._thread is not None:
            raise RuntimeError("The server is already started.")
        self._thread = threading.Thread(target=self._run, name=f"kube-emulator-{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("The emulated Kubernetes API did not start within 30 seconds.")
        if self._failure is not None:
            raise RuntimeError("The emulated Kubernetes API failed to start.") from self._failure
        return self

    def stop(self) -> None:
        """Stop serving: open watches end, the port closes, the thread exits."""
        if self._thread is None or self._loop is None or self._stopping is None:
            return
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=30)
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except Exception as exc:  # noqa: BLE001 (any failure to bind or serve is reported by start())
            self._failure = exc
        finally:
            self._ready.set()
            self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        async with self.emulator:
            runner = aiohttp.web.ServerRunner(
                aiohttp.web.Server(self.emulator, handler_cancellation=True), shutdown_timeout=1
            )
            await runner.setup()
            site = aiohttp.web.TCPSite(runner, self.host, self.port)
            await site.start()
            self.port = runner.addresses[0][1]
            self._ready.set()
            try:
                await self._stopping.wait()
            finally:
                self.emulator.hub.close()
                await runner.cleanup()

    def _call_in_loop(self, fn: Any, *args: Any) -> Any:
        """Run a loop-only operation (e.g. waking watches) from another thread and wait for it."""
        if self._loop is None or not self._loop.is_running():
            return fn(*args)

        async def call() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=30)

    def write_kubeconfig(self, path: pathlib.Path, namespace: str = "default") -> pathlib.Path:
        """Write a kubeconfig whose only context, ``upskill-sandbox``, points here without auth."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": CONTEXT,
            "preferences": {},
            "clusters": [{"name": CONTEXT, "cluster": {"server": self.url}}],
            "users": [{"name": CONTEXT, "user": {}}],
            "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace}}],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    # -- Reading state: thread-safe, returns private copies. --

    def get(self, api_version: str, kind_plural: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """One stored object (as served in ``api_version``), or None."""
        group, _, version = api_version.rpartition("/")
        rdef = self.emulator.cluster.registry.lookup(group, version, kind_plural)
        if rdef is None:
            return None
        obj = self.emulator.cluster.store.get(rdef.key, namespace if rdef.namespaced else None, name)
        return copy.deepcopy(self.emulator.cluster.present(obj, rdef, version)) if obj is not None else None

    def list(self, api_version: str, kind_plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Stored objects of a resource, all namespaces unless one is given, sorted by namespace/name."""
        group, _, version = api_version.rpartition("/")
        rdef = self.emulator.cluster.registry.lookup(group, version, kind_plural)
        if rdef is None:
            return []
        objs = self.emulator.cluster.store.items(rdef.key, namespace)
        return [copy.deepcopy(self.emulator.cluster.present(obj, rdef, version)) for obj in objs]

    @property
    def resource_version(self) -> int:
        """The latest resourceVersion written."""
        return self.emulator.cluster.store.resource_version

    # -- Writing: through HTTP, exactly as a client would. --

    def apply_manifest(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create the object, or merge-patch it if it exists; ``status`` is written via ``/status`` too."""
        rdef = self._call_in_loop(self.emulator.cluster.registry.by_kind, obj.get("apiVersion", ""), obj.get("kind"))
        if rdef is None:
            raise KubeApiError(
                404, {"reason": "NotFound", "message": f"no resource for {obj.get('apiVersion')} {obj.get('kind')}"}
            )
        body = copy.deepcopy(obj)
        body.setdefault("metadata", {}).pop("resourceVersion", None)
        namespace = body["metadata"].setdefault("namespace", "default") if rdef.namespaced else None
        version = body["apiVersion"].rpartition("/")[2]
        base = f"/apis/{rdef.group}/{version}" if rdef.group else f"/api/{version}"
        collection = f"{base}/namespaces/{namespace}/{rdef.plural}" if namespace else f"{base}/{rdef.plural}"
        item = f"{collection}/{body['metadata']['name']}"
        status, result = self._http("POST", collection, body)
        if status == 409 and result.get("reason") == "AlreadyExists":
            status, result = self._http("PATCH", item, body, "application/merge-patch+json")
        if status < 300 and rdef.status_subresource and "status" in obj:
            status, result = self._http(
                "PATCH", f"{item}/status", {"status": obj["status"]}, "application/merge-patch+json"
            )
        if status >= 300:
            raise KubeApiError(status, result)
        return result

    def apply_yaml(self, text: str) -> None:
        """:meth:`apply_manifest` every document of ``text`` as ``kubectl apply -f`` reads it (YAML 1.1)."""
        for doc in kubectl_yaml.load_all(text):
            self.apply_manifest(doc)

    def _http(
        self, method: str, path: str, body: Any, content_type: str = "application/json"
    ) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(  # noqa: S310 (our own http URL)
            self.url + path,
            method=method,
            data=json.dumps(body).encode(),
            headers={"Content-Type": content_type, "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (our own http URL)
                return int(response.status), dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            return int(exc.code), dict(json.loads(exc.read() or b"{}"))

    # -- Faults and history, for resilience tests. --

    def inject_fault(
        self,
        method: str = "*",
        path: str | re.Pattern[str] = ".*",
        *,
        status: int = 500,
        times: int = 1,
        drop_watch: bool = False,
        message: str = "injected fault",
    ) -> Fault:
        """Fail the next ``times`` requests whose method and path (regex, searched) match.

        With ``drop_watch=True``, matching watch requests get their initial events and then the
        connection is cut instead. Returns the fault; its ``hits`` says how often it fired.
        """
        pattern = re.compile(path) if isinstance(path, str) else path
        return self.emulator.faults.add(Fault(method.upper(), pattern, status, times, drop_watch, message))

    def clear_faults(self) -> None:
        self.emulator.faults.clear()

    def drop_watches(self, path: str | re.Pattern[str] | None = None) -> int:
        """Cut the currently open watch connections whose path matches (all if None); returns how many."""
        pattern = re.compile(path) if isinstance(path, str) else path
        return int(self._call_in_loop(self.emulator.hub.drop, pattern))

    def compact(self) -> int:
        """Forget the event history, as etcd compaction does: resuming older versions then gives 410."""
        return int(self._call_in_loop(self.emulator.cluster.store.compact))
