"""What the operator asks of the Kubernetes API, read from its source with ``ast``.

Every reference to a method of the official client's typed APIs (``self._core.patch_namespaced_config_map``,
``kube.apps.read_namespaced_deployment``, ``kube.custom.get_namespaced_custom_object``) is mapped to
the RBAC rule it needs: the HTTP method and path come from the client's own request builder for that
method (``_<method>_serialize``), so the mapping is the client's, not a hand list. Custom-object calls
name their resource at run time; they are attributed to our CRDs (the only custom objects the
operator touches). Raw ``call_api`` and the dynamic client are refused: RBAC could not be derived.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client

from upskill_operator.models import KINDS
from upskill_operator.models.common import API_GROUP

__all__ = ["DEVELOPER_MODULES", "KOPF_NEEDS", "PACKAGE", "Use", "expand", "needed", "scan"]

PACKAGE = Path(__file__).resolve().parents[2] / "operator" / "upskill_operator"
_HINTS = {"core": "CoreV1Api", "apps": "AppsV1Api", "custom": "CustomObjectsApi", "batch": "BatchV1Api"}
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}
_OUR_PLURALS = tuple(sorted(info.plural for info in KINDS))
_WEBSOCKET_CREATE = ("pods/exec", "pods/attach", "pods/portforward")
"""Subresources whose websocket upgrade (an HTTP GET) is also checked for ``create`` since Kubernetes 1.35
(KEP-4006, AuthorizePodWebsocketUpgradeCreatePermission, on by default); ``get`` before that."""
DEVELOPER_MODULES = ("commands/connect", "commands/status", "commands/kubeopts")
"""Modules that run as a developer (``connect``, ``status``: manifests/rbac/developer), not as the operator."""

Triple = tuple[str, str, str]
"""(apiGroup, resource[/subresource], verb)"""

KOPF_NEEDS: frozenset[Triple] = frozenset(
    {(API_GROUP, plural, verb) for plural in _OUR_PLURALS for verb in ("list", "watch", "patch")}
    | {(API_GROUP, f"{plural}/status", "patch") for plural in _OUR_PLURALS}
    | {("", "events", "create"), ("", "namespaces", "list"), ("", "namespaces", "watch")}
    | {("apiextensions.k8s.io", "customresourcedefinitions", v) for v in ("list", "watch")}
)
"""kopf itself: watch and patch our resources (finalizers, progress annotations) and their status,
post events, and observe CRDs and namespaces. Standalone: no peering objects."""


@dataclass(frozen=True)
class Use:
    where: str
    api: str
    method: str


@functools.cache
def _apis() -> dict[str, dict[str, object]]:
    """API class name -> {public method name: class}, for every typed API of the client."""
    out: dict[str, dict[str, object]] = {}
    for name in dir(client):  # the client module loads its classes lazily: dir, then getattr
        cls = getattr(client, name)
        if name.endswith("Api") and inspect.isclass(cls) and name != "ApiClient":
            out[name] = {
                m: cls
                for m in vars(cls)
                if not m.startswith("_") and hasattr(cls, f"_{m}_serialize")  # endpoints only, not close()
            }
    return out


def _endpoint(api: str, method: str) -> tuple[str, str]:
    source = inspect.getsource(getattr(getattr(client, api), f"_{method}_serialize"))
    http = re.search(r"method='(\w+)'", source)
    path = re.search(r"resource_path='([^']+)'", source)
    assert http, f"cannot read the HTTP method of {api}.{method}"
    assert path, f"cannot read the path of {api}.{method}"
    return http.group(1), path.group(1)


def needed(use: Use, watch: bool = False) -> set[Triple]:
    """The RBAC triples one client method needs."""
    http, path = _endpoint(use.api, use.method)
    parts = [p for p in path.split("/") if p]
    if parts[0] == "api":
        group, rest = "", parts[2:]
    else:
        group, rest = parts[1], parts[3:]
    if len(rest) >= 2 and rest[0] == "namespaces" and rest[1] == "{namespace}" and len(rest) > 2:
        rest = rest[2:]
    resource, named, sub = rest[0], len(rest) > 1, rest[2] if len(rest) > 2 else None
    if http == "GET":
        verbs = {"get"} if named else ({"list", "watch"} if watch else {"list"})
    elif http == "DELETE":
        verbs = {"delete"} if named else {"deletecollection"}
    else:
        verbs = {_VERBS[http]}
    groups, resources = [group], [resource]
    if group == "{group}":  # CustomObjectsApi: our custom resources
        groups, resources = [API_GROUP], list(_OUR_PLURALS)
    found = {(g, f"{r}/{sub}" if sub else r, v) for g in groups for r in resources for v in verbs}
    return found | {(g, r, "create") for g, r, v in found if v == "get" and r in _WEBSOCKET_CREATE}


def _receiver(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr.lstrip("_")
    if isinstance(node, ast.Name):
        return node.id.lstrip("_")
    return None


def scan(package: Path = PACKAGE, developer: bool = False) -> tuple[dict[Triple, list[str]], list[str]]:
    """(triple -> where it is used, problems) for the operator's modules of the package, or with
    ``developer`` only those of DEVELOPER_MODULES."""
    apis = _apis()
    by_method: dict[str, set[str]] = {}
    for api, methods in apis.items():
        for method in methods:
            by_method.setdefault(method, set()).add(api)
    found: dict[Triple, list[str]] = {}
    problems: list[str] = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if relative.startswith(DEVELOPER_MODULES) != developer:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        watched = {
            id(arg)
            for call in ast.walk(tree)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "stream"
            for arg in call.args[:1]
        }
        watched |= {
            id(call.func)
            for call in ast.walk(tree)
            if isinstance(call, ast.Call) and any(k.arg == "watch" for k in call.keywords)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("call_api", "DynamicClient"):
                problems.append(f"{relative}:{node.lineno}: {node.attr} hides the resource from the RBAC check")
            if not isinstance(node, ast.Attribute) or node.attr not in by_method:
                continue
            candidates = by_method[node.attr]
            hint = _HINTS.get(_receiver(node.value) or "")
            api = hint if hint in candidates else (next(iter(candidates)) if len(candidates) == 1 else None)
            if api is None:
                problems.append(f"{relative}:{node.lineno}: {node.attr} is ambiguous ({sorted(candidates)})")
                continue
            for triple in needed(Use(relative, api, node.attr), watch=id(node) in watched):
                found.setdefault(triple, []).append(f"{relative}:{node.lineno}")
    return found, problems


def expand(rules: list[dict[str, object]]) -> set[Triple]:
    """ClusterRole rules -> the set of (group, resource, verb) they grant."""
    out: set[Triple] = set()
    for rule in rules:
        for group in rule.get("apiGroups", []):  # type: ignore[attr-defined]
            for resource in rule.get("resources", []):  # type: ignore[attr-defined]
                for verb in rule.get("verbs", []):  # type: ignore[attr-defined]
                    out.add((str(group), str(resource), str(verb)))
    return out
