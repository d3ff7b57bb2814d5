"""Helpers shared by the tests of the emulated Kubernetes API: a test CRD, raw HTTP, waiting."""

from __future__ import annotations

import copy
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

import kubernetes

from upskill_sandbox.kube import KubeServer

T = TypeVar("T")

GROUP = "upskill.io"
PLURAL = "upskilltables"
TABLES = f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}"

_KEY = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "type": {"type": "string", "enum": ["S", "N", "B"], "default": "S"}},
}

TABLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["keys"],
            "properties": {
                "tableName": {
                    "type": "string",
                    "maxLength": 20,
                    "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "is immutable"}],
                },
                "billing": {"type": "string", "enum": ["PAY_PER_REQUEST", "PROVISIONED"], "default": "PAY_PER_REQUEST"},
                "keys": {"type": "object", "required": ["partition"], "properties": {"partition": _KEY, "sort": _KEY}},
                "stream": {
                    "type": "object",
                    "properties": {
                        "enabled": {"type": "boolean", "default": False},
                        "view": {"type": "string", "default": "NEW_AND_OLD_IMAGES"},
                    },
                },
                "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "port": {"x-kubernetes-int-or-string": True},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 5, "nullable": True},
                "items": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set", "maxItems": 3},
                "capacity": {
                    "type": "object",
                    "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
                    "x-kubernetes-validations": [
                        {"rule": "self.min <= self.max", "message": "min must not exceed max"}
                    ],
                },
            },
        },
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


def table_crd(schema: dict[str, Any] | None = None, *, status: bool = True) -> dict[str, Any]:
    """The test CRD ``upskilltables.upskill.io`` (namespaced, kind UpskillTable, short name ut)."""
    version: dict[str, Any] = {
        "name": "v1",
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": copy.deepcopy(schema or TABLE_SCHEMA)},
        "additionalPrinterColumns": [{"name": "Billing", "type": "string", "jsonPath": ".spec.billing"}],
    }
    if status:
        version["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "versions": [version],
            "names": {
                "plural": PLURAL,
                "singular": "upskilltable",
                "kind": "UpskillTable",
                "shortNames": ["ut"],
                "categories": ["upskill"],
            },
        },
    }


def table(name: str, **spec: Any) -> dict[str, Any]:
    """An UpskillTable manifest with a valid minimal spec plus ``spec`` overrides."""
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "UpskillTable",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"keys": {"partition": {"name": "pk"}}, **spec},
    }


def http(
    kube: KubeServer,
    method: str,
    path: str,
    body: Any = None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, dict[str, list[str]]]:
    """One raw request: (status, decoded JSON body or raw text, headers with all values per name)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        kube.url + path, data=data, method=method, headers={"Content-Type": content_type, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw, got = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, raw, got = exc.code, exc.read(), exc.headers
    all_headers: dict[str, list[str]] = {}
    for key, value in got.items():
        all_headers.setdefault(key.lower(), []).append(value)
    try:
        return status, json.loads(raw), all_headers
    except ValueError:
        return status, raw.decode(), all_headers


def watch_lines(kube: KubeServer, path: str, timeout: float = 5) -> list[dict[str, Any]]:
    """All events of a watch request that ends by itself (``timeoutSeconds`` or an error)."""
    with urllib.request.urlopen(kube.url + path, timeout=timeout) as response:
        return [json.loads(line) for line in response.read().splitlines() if line.strip()]


def api_client(kubeconfig: str) -> kubernetes.client.ApiClient:
    """A fresh official client configured from a kubeconfig (not from the process-wide default)."""
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    return kubernetes.client.ApiClient(configuration)


def wait_until(check: Callable[[], T], timeout: float = 5.0, interval: float = 0.01) -> T:
    """Poll ``check`` until it returns something truthy; fail with the last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        time.sleep(interval)
