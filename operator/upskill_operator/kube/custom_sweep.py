"""List our custom resources across the watched scope, as the sweeper needs (it annotates through
:class:`~upskill_operator.kube.custom_objects.CustomObjects`).

The sweeper (handlers/sweeper.py) needs the same view kopf has, outside kopf's watch: every
object of a kind, cluster-wide or in the watched namespaces. Lists ask for
``resourceVersion=0``, which a real API server answers from its watch cache instead of etcd:
a sweep every minute then costs the cluster almost nothing, and a list a second stale is fine
for finding objects that have been stuck for a minute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from kubernetes.client.exceptions import ApiException

from upskill_operator.kube.client import Kube, raise_api_error
from upskill_operator.models.common import API_GROUP, API_VERSION

__all__ = ["list_in_scope"]


def list_in_scope(kube: Kube, plural: str, namespaces: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Every object of one of our kinds: in ``namespaces``, or cluster-wide when there are none."""
    scopes: list[str | None] = [*namespaces] or [None]
    items: list[dict[str, Any]] = []
    for namespace in scopes:
        try:
            if namespace is None:
                found = kube.custom.list_cluster_custom_object(API_GROUP, API_VERSION, plural, resource_version="0")
            else:
                found = kube.custom.list_namespaced_custom_object(
                    API_GROUP, API_VERSION, namespace, plural, resource_version="0"
                )
        except ApiException as exc:
            if exc.status == 404:
                continue  # the CRD (or the namespace) is not there
            raise_api_error(exc, f"listing {plural}.{API_GROUP} in {namespace or 'all namespaces'}")
        items.extend(dict(item) for item in cast(Mapping[str, Any], found).get("items") or [])
    return items
