"""kubectl's conventions for the developer commands (``status``, ``connect``): options, cluster, errors.

``-n/--namespace`` (else the context's namespace, else ``default``), ``--context`` (else the current one),
``--kubeconfig`` (else ``KUBECONFIG``, a ``:``-separated list as kubectl reads it, else ``~/.kube/config``).
Every failure is a :class:`KubeError`: one line saying what is missing, exit code 1. The kubernetes client
is imported only when a cluster is opened, so that building the command line stays fast.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

if TYPE_CHECKING:
    from kubernetes.client.exceptions import ApiException

    from upskill_operator.kube.client import Kube

__all__ = ["Cluster", "KubeError", "Resource", "add_kube_options", "api_call", "open_cluster", "require_namespace"]

T = TypeVar("T")
TIMEOUT = (5.0, 30.0)
"""Connect and read timeouts of every call, seconds: an unreachable cluster fails in seconds, not minutes."""


class KubeError(Exception):
    """A one-line reason the command cannot go on (exit code 1); ``status`` is the API's HTTP status, if any."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Resource:
    """A Kubernetes resource as RBAC names it: ``plural`` in API ``group`` (``""`` for the core group)."""

    plural: str
    group: str = ""

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


@dataclass
class Cluster:
    """A client for the chosen context and the namespace the command works in."""

    kube: Kube
    namespace: str
    context: str
    server: str

    def close(self) -> None:
        self.kube.close()


def add_kube_options(parser: argparse.ArgumentParser, *, all_namespaces: bool = False) -> None:
    """kubectl's ``-n``, ``--context`` and ``--kubeconfig`` (and ``-A`` when the command spans namespaces)."""
    if all_namespaces:
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("-n", "--namespace", help="namespace (default: the context's, else default)")
        scope.add_argument("-A", "--all-namespaces", action="store_true", help="every namespace")
    else:
        parser.add_argument("-n", "--namespace", help="namespace (default: the context's, else default)")
    parser.add_argument("--context", help="kubeconfig context (default: the current context)")
    parser.add_argument("--kubeconfig", type=Path, help="kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")


def _kubeconfig_path(explicit: Path | None) -> str:
    """The kubeconfig to read, resolved now (the client read KUBECONFIG once, at import)."""
    if explicit:
        if not explicit.is_file():
            raise KubeError(f"kubeconfig {explicit} does not exist")
        return str(explicit)
    listed = os.environ.get("KUBECONFIG", "")
    paths = [p for p in listed.split(os.pathsep) if p] or [str(Path.home() / ".kube" / "config")]
    if not any(Path(p).is_file() for p in paths):
        where = f"KUBECONFIG={listed}" if listed else "~/.kube/config"
        raise KubeError(f"no kubeconfig found ({where}): set KUBECONFIG or pass --kubeconfig")
    return os.pathsep.join(p for p in paths if Path(p).is_file())


def _contexts(path: str) -> tuple[list[dict[str, Any]], str | None]:
    """The contexts of the kubeconfig list (the first of a name wins) and the first current-context set."""
    contexts: dict[str, dict[str, Any]] = {}
    current: str | None = None
    for one in path.split(os.pathsep):
        try:
            loaded = yaml.safe_load(Path(one).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise KubeError(f"kubeconfig {one} is not readable: {exc}") from None
        if not isinstance(loaded, dict):
            raise KubeError(f"kubeconfig {one} is not a kubeconfig (not a mapping)")
        current = current or loaded.get("current-context") or None
        for entry in loaded.get("contexts") or ():
            if isinstance(entry, dict) and entry.get("name"):
                contexts.setdefault(str(entry["name"]), entry)
    return list(contexts.values()), current


def open_cluster(args: argparse.Namespace) -> Cluster:
    """A client for ``--context`` (or the current one) of the kubeconfig, and the namespace to use."""
    from kubernetes import client as k8s
    from kubernetes import config as k8s_config

    from upskill_operator.kube.client import Kube

    path = _kubeconfig_path(getattr(args, "kubeconfig", None))
    wanted = getattr(args, "context", None)
    contexts, current = _contexts(path)
    names = [str(c.get("name")) for c in contexts]
    if wanted and wanted not in names:
        raise KubeError(f'context "{wanted}" not found in kubeconfig {path} (contexts: {", ".join(names) or "none"})')
    chosen = next((c for c in contexts if c.get("name") == (wanted or current)), None)
    if not chosen and current:
        raise KubeError(
            f'current-context "{current}" of kubeconfig {path} is not among its contexts ({", ".join(names)})'
        )
    if not chosen:
        raise KubeError(f"kubeconfig {path} has no current context: pass --context ({', '.join(names) or 'none'})")
    configuration = k8s.Configuration()
    try:
        k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=path, context=chosen["name"], client_configuration=configuration
        )
    except (k8s_config.ConfigException, OSError, ValueError) as exc:
        raise KubeError(f'context "{chosen["name"]}" in {path} is not usable: {exc}') from None
    configuration.retries = 0
    namespace = getattr(args, "namespace", None) or (chosen.get("context") or {}).get("namespace") or "default"
    return Cluster(Kube(configuration), str(namespace), str(chosen["name"]), str(configuration.host))


def _refusal(exc: ApiException, verb: str, resource: Resource, namespace: str | None, cluster: Cluster) -> KubeError:
    where = f' in namespace "{namespace}"' if namespace else " across all namespaces"
    status = int(exc.status or 0)
    if status == 401:
        return KubeError(
            f'the cluster refused the credentials of context "{cluster.context}" (401 Unauthorized)', status
        )
    if status == 403:
        group = f' in API group "{resource.group}"' if resource.group else ""
        return KubeError(
            f"forbidden: you may not {verb} {resource}{where}; RBAC must grant verb {verb!r} on resource "
            f'"{resource.plural}"{group} (see docs/dev.md)',
            status,
        )
    return KubeError(f"the Kubernetes API answered {status} {exc.reason} to {verb} {resource}{where}", status)


def api_call(cluster: Cluster, verb: str, resource: Resource, namespace: str | None, call: Callable[[], T]) -> T:
    """``call()``, with refusals and an unreachable server turned into :class:`KubeError`; 404 is re-raised."""
    import urllib3
    from kubernetes.client.exceptions import ApiException

    try:
        return call()
    except ApiException as exc:
        if exc.status == 404:
            raise
        raise _refusal(exc, verb, resource, namespace, cluster) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise KubeError(
            f'cannot reach the Kubernetes API at {cluster.server} (context "{cluster.context}"): {reason}'
        ) from None


def require_namespace(cluster: Cluster, namespace: str) -> None:
    """A :class:`KubeError` when ``namespace`` does not exist; nothing when it does or may not be read (403)."""
    from kubernetes.client.exceptions import ApiException

    try:
        api_call(
            cluster,
            "get",
            Resource("namespaces"),
            None,
            lambda: cluster.kube.core.read_namespace(namespace, _request_timeout=TIMEOUT),
        )
    except ApiException:
        raise KubeError(f'namespace "{namespace}" not found (context "{cluster.context}")') from None
    except KubeError as exc:
        if exc.status != 403:
            raise
