"""A Kubernetes API server emulator: kmock's ``KubernetesEmulator`` with the real server's semantics.

kmock 0.8 gives the HTTP plumbing, the request-matching DSL (still used for non-API paths such as
``/version``, and for any reactions users add) and the discovery bookkeeping (``self.resources``,
mirrored here). Its stock object handling falls short of what kopf and kubectl need (no
resourceVersion, no status subresource, no PUT, no selectors, ``/api/v1/namespaces`` fails, ...), so
every request under ``/api`` and ``/apis`` is served here instead, by :mod:`kube_ops` semantics
over :mod:`kube_store`, with discovery from :mod:`kube_resources` and watches from :mod:`kube_watch`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp.web
import attrs
import kmock
from multidict import CIMultiDict

from upskill_sandbox import kube_errors, kube_patch, kube_protobuf, kube_selectors, kube_table, kube_watch
from upskill_sandbox.kube_errors import ApiError
from upskill_sandbox.kube_ops import Change, Cluster, WriteOptions, WriteResult
from upskill_sandbox.kube_resources import ResourceDef
from upskill_sandbox.kube_traffic import Fault, FaultInjector, RequestLog

__all__ = ["KubeEmulator", "Route", "parse_route"]

logger = logging.getLogger(__name__)

_PATCHERS = {
    "application/merge-patch+json": kube_patch.apply_merge_patch,
    "application/strategic-merge-patch+json": kube_patch.apply_strategic_merge_patch,
    "application/json-patch+json": kube_patch.apply_json_patch,
}
_JSON_TYPES = ("application/json", "application/yaml", "application/octet-stream", "text/plain", "")
_TRUE = ("1", "t", "T", "true", "TRUE", "True")


@attrs.frozen
class Route:
    """A parsed API path. ``plural`` is None for discovery of a group version."""

    group: str
    version: str
    namespace: str | None = None
    plural: str | None = None
    name: str | None = None
    subresource: str | None = None


def parse_route(path: str) -> Route | str | None:
    """``/apis/g/v/namespaces/ns/plural/name/status`` → Route; ``/api``, ``/apis``, ``/apis/g`` → str."""
    parts = [part for part in path.split("/") if part]
    if parts in (["api"], ["apis"]):
        return parts[0]
    if len(parts) == 2 and parts[0] == "apis":
        return f"apis/{parts[1]}"
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    return Route(
        group,
        version,
        namespace,
        rest[0] if rest else None,
        rest[1] if len(rest) > 1 else None,
        "/".join(rest[2:]) or None,
    )


def _json(payload: Any, status: int = 200, warnings: tuple[str, ...] = ()) -> aiohttp.web.Response:
    headers: CIMultiDict[str] = CIMultiDict()
    for warning in warnings:
        headers.add("Warning", f"299 - {json.dumps(warning)}")
    return aiohttp.web.Response(
        body=json.dumps(payload, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _error(exc: ApiError) -> aiohttp.web.Response:
    response = _json(kube_errors.status_body(exc.status, exc.reason, exc.message, exc.details), exc.status)
    response.headers.update(exc.headers)
    return response


@attrs.define(kw_only=True)
class KubeEmulator(kmock.KubernetesEmulator):  # type: ignore[misc]
    """The aiohttp low-level handler of the emulated API server (see the module docstring)."""

    history_limit: int = 10_000
    cluster: Cluster = attrs.field(init=False)
    traffic: RequestLog = attrs.field(factory=RequestLog, init=False)
    faults: FaultInjector = attrs.field(factory=FaultInjector, init=False)
    hub: kube_watch.WatchHub = attrs.field(factory=kube_watch.WatchHub, init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        for probe in ("/healthz", "/livez", "/readyz"):
            self.fallback[f"get {probe}"] << b"ok"
        self.cluster = Cluster(self.history_limit)
        self.cluster.store.listeners.append(self.hub.notify)
        self.cluster.registry_listeners.append(self._mirror)
        for rdef in self.cluster.registry:
            self._mirror(rdef, True)

    def _mirror(self, rdef: ResourceDef, served: bool) -> None:
        """Keep kmock's discovery view (``self.resources``) in step with what is served."""
        for version in rdef.versions:
            key = kmock.resource(rdef.group, version, rdef.plural)
            if served:
                self.resources[key] = kmock.ResourceInfo(
                    namespaced=rdef.namespaced,
                    kind=rdef.kind,
                    singular=rdef.singular,
                    verbs=set(rdef.verbs),
                    shortnames=set(rdef.short_names),
                    categories=set(rdef.categories),
                    subresources={"status"} if rdef.status_subresource else set(),
                )
            elif key in self.resources:
                del self.resources[key]

    async def __call__(self, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        await raw.read()
        self.traffic.record(raw.method, raw.path)
        try:
            route = parse_route(raw.path)
            fault = self.faults.take(raw.method, raw.path, watch=raw.query.get("watch") in _TRUE)
            if fault is not None and not fault.drop_watch:
                raise fault.error()
            if route is None:
                return await super().__call__(raw)  # kmock's DSL: /version, user reactions, else 404
            if isinstance(route, str):
                return _json(self._discovery(route, raw))
            return await self._serve(raw, route, fault)
        except ApiError as exc:
            return _error(exc)
        except Exception as exc:
            logger.exception("The emulated API server failed on %s %s", raw.method, raw.path_qs)
            return _error(kube_errors.internal_error(repr(exc)))

    async def _render_error(self, exc: Exception) -> aiohttp.web.StreamResponse:
        """Errors from kmock's own reactions, in the real server's Status shape and reasons."""
        if isinstance(exc, ApiError):
            return _error(exc)
        if isinstance(exc, kmock.KubernetesNotFoundError):
            return _error(kube_errors.path_not_found())
        return _error(kube_errors.internal_error(repr(exc)))

    async def _serve_server_version(self, request: kmock.Request) -> dict[str, str]:
        """Report the Kubernetes version whose behaviour is emulated (kmock reports an old k3s)."""
        return {
            "major": "1",
            "minor": "32",
            "gitVersion": "v1.32.0-upskill-sandbox",
            "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z",
            "goVersion": "go1.23",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    def _discovery(self, route: str | Route, raw: aiohttp.web.BaseRequest) -> dict[str, Any]:
        registry = self.cluster.registry
        document: dict[str, Any] | None
        if route == "api":
            address = f"{raw.host}"
            document = {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
            }
        elif route == "apis":
            document = registry.groups_document()
        elif isinstance(route, str):
            document = registry.group_document(route.removeprefix("apis/"))
        else:
            document = registry.resources_document(route.group, route.version)
        if document is None:
            raise kube_errors.path_not_found()
        return document

    async def _serve(
        self, raw: aiohttp.web.BaseRequest, route: Route, fault: Fault | None
    ) -> aiohttp.web.StreamResponse:
        if route.plural is None:
            return _json(self._discovery(route, raw))
        rdef = self.cluster.registry.lookup(route.group, route.version, route.plural)
        if rdef is None or (route.namespace is not None and not rdef.namespaced):
            raise kube_errors.path_not_found()
        if route.subresource not in (None, "status") or (route.subresource and not rdef.status_subresource):
            raise kube_errors.path_not_found()
        method = raw.method.upper()
        if method == "GET":
            return await self._serve_read(raw, route, rdef, fault)
        if route.name is None and method == "POST" and route.subresource is None:
            result = self.cluster.create(rdef, route.version, route.namespace, await self._body(raw), _options(raw))
            return _json(self.cluster.present(result.obj, rdef, route.version), 201, result.warnings)
        if route.name is not None and method in ("PUT", "PATCH"):
            return self._respond(rdef, route, self._write(raw, route, rdef, await self._body(raw)))
        if method == "DELETE" and route.subresource is None:
            return await self._delete_request(raw, route, rdef)
        raise kube_errors.method_not_allowed()

    async def _serve_read(
        self, raw: aiohttp.web.BaseRequest, route: Route, rdef: ResourceDef, fault: Fault | None
    ) -> aiohttp.web.StreamResponse:
        if raw.query.get("watch") in _TRUE:
            return await kube_watch.serve_watch(
                self.hub,
                self.cluster,
                raw,
                rdef,
                self._renderer(raw, route, rdef),
                self._matcher(raw, route, rdef),
                cut_after_initial=fault is not None and fault.drop_watch,
            )
        if route.name is None:
            listed = self._list(raw, route, rdef)
        else:
            obj = self.cluster.store.get(rdef.key, route.namespace if rdef.namespaced else None, route.name)
            if obj is None:
                raise kube_errors.not_found(rdef.group, rdef.plural, route.name)
            listed = self.cluster.present(obj, rdef, route.version)
        if kube_table.wants_table(raw.headers.get("Accept", "")):
            items = listed["items"] if route.name is None else [listed]
            printed = kube_table.table(
                items, rdef.printer_columns.get(route.version, []), listed["metadata"]["resourceVersion"]
            )
            printed["metadata"].update({k: v for k, v in listed["metadata"].items() if k == "continue"})
            return _json(printed)
        return _json(listed)

    def _renderer(self, raw: aiohttp.web.BaseRequest, route: Route, rdef: ResourceDef) -> kube_watch.Render:
        """How watch events show objects: as stored, or as one-row Tables for ``kubectl get -w``."""
        columns = rdef.printer_columns.get(route.version, [])
        tables = kube_table.wants_table(raw.headers.get("Accept", ""))

        def render(obj: dict[str, Any]) -> dict[str, Any]:
            served = self.cluster.present(obj, rdef, route.version)
            rv = served["metadata"].get("resourceVersion", "")
            return kube_table.table([served], columns, rv) if tables else served

        return render

    def _matcher(self, raw: aiohttp.web.BaseRequest, route: Route, rdef: ResourceDef) -> kube_selectors.Selector:
        labels = kube_selectors.parse_label_selector(raw.query.get("labelSelector"))
        fields = kube_selectors.parse_field_selector(raw.query.get("fieldSelector"), rdef.plural)
        namespace, name = route.namespace, route.name

        def match(obj: Mapping[str, Any]) -> bool:
            meta = obj.get("metadata", {})
            return (
                (namespace is None or meta.get("namespace") == namespace)
                and (name is None or meta.get("name") == name)
                and labels(obj)
                and fields(obj)
            )

        return match

    def _list(self, raw: aiohttp.web.BaseRequest, route: Route, rdef: ResourceDef) -> dict[str, Any]:
        match = self._matcher(raw, route, rdef)
        rv, items = self.cluster.store.snapshot(rdef.key, route.namespace)
        selected = [obj for obj in items if match(obj)]
        start = _decode_continue(raw.query.get("continue"))
        if start is not None:
            selected = [obj for obj in selected if _sort_key(obj) > start]
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        limit = int(raw.query.get("limit") or 0) if (raw.query.get("limit") or "0").isdigit() else 0
        if limit and len(selected) > limit:
            meta["remainingItemCount"] = len(selected) - limit
            selected = selected[:limit]
            meta["continue"] = base64.urlsafe_b64encode(json.dumps(list(_sort_key(selected[-1]))).encode()).decode()
        return {
            "kind": f"{rdef.kind}List",
            "apiVersion": rdef.api_version(route.version),
            "metadata": meta,
            "items": [self.cluster.present(obj, rdef, route.version) for obj in selected],
        }

    @staticmethod
    async def _body(raw: aiohttp.web.BaseRequest) -> Any:
        if raw.content_type == kube_protobuf.PROTOBUF:
            decoded = kube_protobuf.decode(await raw.read())
            if decoded is None:
                raise kube_errors.unsupported_media_type(raw.content_type)
            return decoded
        if raw.method.upper() in ("POST", "PUT") and raw.content_type not in _JSON_TYPES:
            raise kube_errors.unsupported_media_type(raw.content_type)
        try:
            return json.loads(await raw.read() or b"null")
        except ValueError as exc:
            raise kube_errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from exc

    def _write(self, raw: aiohttp.web.BaseRequest, route: Route, rdef: ResourceDef, body: Any) -> WriteResult:
        assert route.name is not None
        if raw.method.upper() == "PUT":
            _check_identity(body, route, rdef)
        change = _change_for(raw, body)
        return self.cluster.update(
            rdef, route.version, route.namespace, route.name, change, _options(raw), subresource=route.subresource
        )

    def _respond(self, rdef: ResourceDef, route: Route, result: WriteResult) -> aiohttp.web.Response:
        return _json(self.cluster.present(result.obj, rdef, route.version), 200, result.warnings)

    async def _delete_request(
        self, raw: aiohttp.web.BaseRequest, route: Route, rdef: ResourceDef
    ) -> aiohttp.web.StreamResponse:
        body = await self._body(raw)
        options = body if isinstance(body, dict) else {}
        opts = _options(raw)
        if route.name is not None:
            obj = self.cluster.delete(rdef, route.namespace, route.name, options, opts)
            return _json(self._deleted(rdef, route, obj))
        if "deletecollection" not in rdef.verbs:
            raise kube_errors.method_not_allowed()
        match = self._matcher(raw, route, rdef)
        deleted = [
            self.cluster.delete(rdef, obj["metadata"].get("namespace"), obj["metadata"]["name"], options, opts)
            for obj in self.cluster.store.items(rdef.key, route.namespace)
            if match(obj)
        ]
        return _json(
            {
                "kind": f"{rdef.kind}List",
                "apiVersion": rdef.api_version(route.version),
                "metadata": {"resourceVersion": str(self.cluster.store.resource_version)},
                "items": [self.cluster.present(obj, rdef, route.version) for obj in deleted],
            }
        )

    def _deleted(self, rdef: ResourceDef, route: Route, obj: dict[str, Any]) -> dict[str, Any]:
        """Custom resources answer with the object; built-ins deleted outright with a Success Status."""
        gone = self.cluster.store.get(rdef.key, obj["metadata"].get("namespace"), obj["metadata"]["name"]) is None
        if rdef.crd_name is not None or not gone:
            return self.cluster.present(obj, rdef, route.version)
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": obj["metadata"]["name"],
                "group": rdef.group,
                "kind": rdef.plural,
                "uid": obj["metadata"]["uid"],
            },
        }


def _change_for(raw: aiohttp.web.BaseRequest, body: Any) -> Change:
    """How a PUT or PATCH body turns the stored object into the requested one."""
    if raw.method.upper() == "PUT":
        return lambda current: body
    patcher = _PATCHERS.get(raw.content_type)
    if patcher is None:
        raise kube_errors.unsupported_media_type(raw.content_type)
    if raw.content_type != "application/json-patch+json" and not isinstance(body, dict):
        raise kube_errors.bad_request("the body of a merge patch must be a JSON object")
    return lambda current: patcher(current, body)


def _options(raw: aiohttp.web.BaseRequest) -> WriteOptions:
    dry_run = raw.query.getall("dryRun", [])
    if any(value != "All" for value in dry_run):
        raise kube_errors.bad_request(f'dryRun: Unsupported value: {json.dumps(dry_run[0])}: supported values: "All"')
    validation = raw.query.get("fieldValidation") or "Warn"
    if validation not in ("Strict", "Warn", "Ignore"):
        raise kube_errors.bad_request(f"fieldValidation: Unsupported value: {json.dumps(validation)}")
    return WriteOptions(dry_run=bool(dry_run), field_validation=validation)


def _check_identity(body: Any, route: Route, rdef: ResourceDef) -> None:
    meta = body.get("metadata") if isinstance(body, dict) else None
    if not isinstance(meta, dict):
        return
    if meta.get("name") not in (None, "", route.name):
        raise kube_errors.bad_request(
            f"the name of the object ({meta['name']}) does not match the name on the URL ({route.name})"
        )
    if rdef.namespaced and meta.get("namespace") not in (None, "", route.namespace):
        raise kube_errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )


def _sort_key(obj: dict[str, Any]) -> tuple[str, str]:
    return obj["metadata"].get("namespace") or "", obj["metadata"]["name"]


def _decode_continue(token: str | None) -> tuple[str, str] | None:
    if not token:
        return None
    try:
        namespace, name = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error, TypeError) as exc:
        raise kube_errors.bad_request(f"continue key is not valid: {exc}") from exc
    return str(namespace), str(name)
