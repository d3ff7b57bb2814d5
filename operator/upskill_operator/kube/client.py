"""Kubernetes API access for ConfigMaps, Secrets and workload restarts.

Custom resources are watched and patched by kopf; this façade covers the other
objects the operator writes, through the official client, configured from an
explicit kubeconfig path (never the process-wide default, which the client reads
at import) or in-cluster.
"""

from __future__ import annotations

from typing import Any, cast

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client import rest
from kubernetes.client.exceptions import ApiException

from upskill_operator.errors import RecoverableError, TerminalError

__all__ = ["REQUEST_TIMEOUT", "Kube", "load_configuration", "raise_api_error"]

REQUEST_TIMEOUT = 30.0
"""Seconds one API call may take, connect and answer, unless its caller gives its own: the client's default
is to wait forever, and a call that never answers would hold its pass, or a background loop, for good."""


def load_configuration(kubeconfig: str | None) -> k8s.Configuration:
    """A client configuration from a kubeconfig path, else in-cluster, else the default kubeconfig."""
    configuration = k8s.Configuration()
    if kubeconfig:
        k8s_config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
        return configuration
    try:
        k8s_config.load_incluster_config(client_configuration=configuration)
    except k8s_config.ConfigException:
        k8s_config.load_kube_config(client_configuration=configuration)
    return configuration


def raise_api_error(exc: ApiException, what: str) -> None:
    """Translate an API failure into the operator's taxonomy (never returns)."""
    status = int(exc.status or 0)
    if status in (401, 403, 422):
        raise TerminalError(f"{what}: Kubernetes API refused with {status} {exc.reason}", reason="KubernetesRefused")
    raise RecoverableError(f"{what}: Kubernetes API answered {status} {exc.reason}", reason="KubernetesUnavailable")


class _BoundedRest(rest.RESTClientObject):
    """The client's HTTP layer, with :data:`REQUEST_TIMEOUT` on every request that names no timeout (below the
    typed API methods, so the RBAC check still sees each call by its method)."""

    def request(
        self,
        method: str,
        url: str,
        headers: Any = None,
        body: Any = None,
        post_params: Any = None,
        _request_timeout: Any = None,
    ) -> Any:
        timeout = REQUEST_TIMEOUT if _request_timeout is None else _request_timeout
        return super().request(method, url, headers, body, post_params, _request_timeout=timeout)


class Kube:
    """Typed calls for the few core objects the operator owns."""

    def __init__(self, configuration: k8s.Configuration) -> None:
        self._api = k8s.ApiClient(configuration)
        self._api.rest_client.close()
        self._api.rest_client = _BoundedRest(configuration)
        self._core = k8s.CoreV1Api(self._api)
        self._apps = k8s.AppsV1Api(self._api)

    def close(self) -> None:
        self._api.close()

    # The typed APIs, for sibling modules (secrets, workloads, custom objects) that add focused helpers.
    @property
    def api(self) -> k8s.ApiClient:
        return self._api

    @property
    def core(self) -> k8s.CoreV1Api:
        return self._core

    @property
    def apps(self) -> k8s.AppsV1Api:
        return self._apps

    @property
    def custom(self) -> k8s.CustomObjectsApi:
        return k8s.CustomObjectsApi(self._api)

    def get_config_map(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            found = self._core.read_namespaced_config_map(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise_api_error(exc, f"reading ConfigMap {namespace}/{name}")
        result: dict[str, Any] = self._api.sanitize_for_serialization(found)
        return result

    def create_config_map(self, namespace: str, body: dict[str, Any]) -> None:
        try:
            self._core.create_namespaced_config_map(namespace, cast(Any, body))
        except ApiException as exc:
            raise_api_error(exc, f"creating ConfigMap {namespace}/{body['metadata']['name']}")

    def patch_config_map(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        try:
            self._core.patch_namespaced_config_map(name, namespace, patch)
        except ApiException as exc:
            raise_api_error(exc, f"patching ConfigMap {namespace}/{name}")

    def delete_config_map(self, namespace: str, name: str) -> None:
        try:
            self._core.delete_namespaced_config_map(name, namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise_api_error(exc, f"deleting ConfigMap {namespace}/{name}")
