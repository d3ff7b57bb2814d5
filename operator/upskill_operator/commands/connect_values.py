"""What ``connect`` reads: the values a namespace's apps are given, as ``envFrom`` would load them.

Each chosen UpskillSecret contributes the keys it writes into its target Secret; each UpskillTable its
connection ConfigMap. Every call here is a typed client call, so the developer ClusterRole is derived
from this module (tests/delivery/test_rbac_developer.py).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from upskill_operator.adapters.secret.ca_configmap import CA_CONFIG_MAP, CA_KEY
from upskill_operator.commands.connect_endpoints import endpoints
from upskill_operator.kube.client import Kube
from upskill_operator.models.common import API_GROUP, API_VERSION

__all__ = ["ConnectError", "Delivered", "collect", "forbidden_reason", "parse_resource"]

KINDS = {"upskillsecrets": "UpskillSecret", "upskilltables": "UpskillTable"}
_ALIASES = {
    **{alias: "upskillsecrets" for alias in ("usecret", "upskillsecret", "upskillsecrets")},
    **{alias: "upskilltables" for alias in ("utable", "upskilltable", "upskilltables")},
}


class ConnectError(Exception):
    """Why connect cannot go on; the message is safe to print (names, never values)."""


@dataclass(frozen=True)
class Delivered:
    values: dict[str, str]
    ca_bundle: str | None
    sources: tuple[str, ...]


def parse_resource(text: str) -> tuple[str | None, str]:
    """``usecret/NAME``, ``utable/NAME`` or a bare NAME (either kind) -> (plural or None, name)."""
    kind, _, name = text.rpartition("/")
    if not kind:
        return None, name
    plural = _ALIASES.get(kind.lower().split(".")[0])
    if plural is None:
        raise ConnectError(f"{text}: connect reads UpskillSecrets (usecret/NAME) and UpskillTables (utable/NAME)")
    return plural, name


def forbidden_reason(exc: ApiException) -> str:
    """The API's own sentence for a refusal (it names the verb and resource), else the status."""
    body = str(exc.body or exc.reason or "")
    found = re.search(r'cannot (\w+) resource \\?"([\w/.]+)\\?"(?: in API group \\?"([\w.]*)\\?")?', body)
    if found:
        group = f" (API group {found.group(3)!r})" if found.group(3) else ""
        return f"RBAC refuses: cannot {found.group(1)} {found.group(2)}{group}"
    return f"the Kubernetes API answered {exc.status} {exc.reason}"


def _api_error(exc: ApiException, what: str) -> ConnectError:
    if exc.status in (401, 403):
        return ConnectError(f"{what}: {forbidden_reason(exc)}; see docs/dev.md (the upskill-developer ClusterRole)")
    if exc.status == 0 or exc.status is None:
        return ConnectError(f"{what}: the cluster is not reachable ({exc.reason})")
    return ConnectError(f"{what}: the Kubernetes API answered {exc.status} {exc.reason}")


def _list(kube: Kube, plural: str, namespace: str) -> list[dict[str, Any]]:
    try:
        found = kube.custom.list_namespaced_custom_object(API_GROUP, API_VERSION, namespace, plural)
    except ApiException as exc:
        raise _api_error(exc, f"listing {plural} in {namespace}") from None
    return [dict(item) for item in cast(Mapping[str, Any], found).get("items") or []]


def _get(kube: Kube, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        found = kube.custom.get_namespaced_custom_object(API_GROUP, API_VERSION, namespace, plural, name)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise _api_error(exc, f"reading {plural}/{name} in {namespace}") from None
    return dict(cast(Mapping[str, Any], found))


def _secret_data(kube: Kube, namespace: str, name: str) -> dict[str, str] | None:
    try:
        found = kube.core.read_namespaced_secret(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise _api_error(exc, f"reading Secret {namespace}/{name}") from None
    out: dict[str, str] = {}
    for key, raw in (found.data or {}).items():
        try:
            out[str(key)] = base64.b64decode(raw).decode()
        except (binascii.Error, UnicodeDecodeError):
            continue  # binary: not an environment value
    return out


def _config_map_data(kube: Kube, namespace: str, name: str) -> dict[str, str] | None:
    try:
        found = kube.core.read_namespaced_config_map(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise _api_error(exc, f"reading ConfigMap {namespace}/{name}") from None
    return {str(k): str(v) for k, v in (found.data or {}).items()}


def _chosen(kube: Kube, namespace: str, resources: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    if not resources:
        found = [(plural, body) for plural in KINDS for body in _list(kube, plural, namespace)]
        if not found:
            raise ConnectError(f"no UpskillSecret or UpskillTable in namespace {namespace} (is it the right one?)")
        return found
    chosen: list[tuple[str, dict[str, Any]]] = []
    for text in resources:
        plural, name = parse_resource(text)
        hits = [(p, b) for p in ([plural] if plural else list(KINDS)) if (b := _get(kube, p, namespace, name))]
        if not hits:
            raise ConnectError(f"{text}: no such UpskillSecret or UpskillTable in namespace {namespace}")
        chosen.extend(hits)
    return chosen


def _secret_keys(body: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    target = (body.get("spec") or {}).get("target") or {}
    if not target.get("secretName"):
        return None
    keys = [str(target["key"])] if target.get("key") else [str(m["key"]) for m in target.get("keys") or ()]
    return str(target["secretName"]), keys


def collect(kube: Kube, namespace: str, resources: Sequence[str] = ()) -> Delivered:
    """The values the chosen resources deliver (all of the namespace's when none is named)."""
    try:
        return _collect(kube, namespace, resources)
    except HTTPError as exc:
        raise ConnectError(f"the cluster is not reachable ({type(exc).__name__})") from None


def _collect(kube: Kube, namespace: str, resources: Sequence[str]) -> Delivered:
    values: dict[str, str] = {}
    sources: list[str] = []
    for plural, body in _chosen(kube, namespace, resources):
        name = body["metadata"]["name"]
        if plural == "upskilltables":
            config_map = str(((body.get("spec") or {}).get("connection") or {}).get("configMapName") or "")
            data = _config_map_data(kube, namespace, config_map) if config_map else None
            if data is None:
                raise ConnectError(f"UpskillTable {name}: ConfigMap {config_map or '?'} not delivered yet")
            values.update(data)
            sources.append(f"ConfigMap {config_map}")
            continue
        wanted = _secret_keys(body)
        if wanted is None:
            continue  # an UpskillSecret without a target delivers nothing to apps
        secret, keys = wanted
        data = _secret_data(kube, namespace, secret)
        missing = [k for k in keys if k not in (data or {})]
        if data is None or missing:
            raise ConnectError(f"UpskillSecret {name}: Secret {secret} lacks {', '.join(missing) or 'everything'}")
        values.update({k: data[k] for k in keys})
        sources.append(f"Secret {secret}")
    ca = (_config_map_data(kube, namespace, CA_CONFIG_MAP) or {}).get(CA_KEY) if endpoints(values) else None
    return Delivered(values, ca, tuple(dict.fromkeys(sources)))  # the CA: only where there is a database
