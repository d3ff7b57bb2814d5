"""The emulated etcd: stored objects, the global resourceVersion counter and the event history.

Every write takes the next value of one cluster-wide counter as the object's ``resourceVersion``
and appends one event to a history that watches replay from any retained version. Stored object
dicts are never mutated after storing (writes store new dicts), so readers and the history may
share them. A lock makes reads from other threads (test accessors) safe; writes happen only on the
server's event loop.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import attrs

from upskill_sandbox import kube_errors

__all__ = ["Event", "ResourceKey", "Store"]

ResourceKey = tuple[str, str]  # (group, plural)
ObjectKey = tuple[str | None, str]  # (namespace, name)


@attrs.frozen
class Event:
    """One change: the object after it (the last state for ``DELETED``) and the one before it."""

    rv: int
    resource: ResourceKey
    type: str
    obj: dict[str, Any]
    old: dict[str, Any] | None


def object_key(obj: dict[str, Any]) -> ObjectKey:
    meta = obj.get("metadata", {})
    return meta.get("namespace"), meta["name"]


class Store:
    """Objects by resource and key, plus a bounded, replayable history of events."""

    def __init__(self, history_limit: int = 10_000) -> None:
        self._lock = threading.RLock()
        self._objects: dict[ResourceKey, dict[ObjectKey, dict[str, Any]]] = defaultdict(dict)
        self._uids: dict[str, tuple[ResourceKey, ObjectKey]] = {}
        self._rv = 0
        self._log: list[Event] = []
        self._log_rvs: list[int] = []
        self._floor = 0  # every event with rv > floor is still in the log
        self._history_limit = history_limit
        self.listeners: list[Callable[[], None]] = []

    @property
    def resource_version(self) -> int:
        """The version of the latest write (what a list answers as its ``resourceVersion``)."""
        with self._lock:
            return self._rv

    def get(self, resource: ResourceKey, namespace: str | None, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._objects[resource].get((namespace, name))

    def exists_uid(self, uid: str) -> bool:
        with self._lock:
            return uid in self._uids

    def items(self, resource: ResourceKey, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects of a resource sorted by namespace and name, optionally in one namespace only."""
        with self._lock:
            ordered = sorted(self._objects[resource].items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
            return [obj for key, obj in ordered if namespace is None or key[0] == namespace]

    def snapshot(self, resource: ResourceKey, namespace: str | None) -> tuple[int, list[dict[str, Any]]]:
        """A consistent list and the version it is current at (what a watch resumes from)."""
        with self._lock:
            return self._rv, self.items(resource, namespace)

    def all_objects(self) -> list[tuple[ResourceKey, dict[str, Any]]]:
        with self._lock:
            return [(resource, obj) for resource, objs in self._objects.items() for obj in objs.values()]

    def events_after(self, rv: int) -> list[Event]:
        """Events newer than ``rv``; raises 410 ``Expired`` if some of them are no longer retained."""
        with self._lock:
            if rv < self._floor or rv > self._rv:
                raise kube_errors.expired(f"too old resource version: {rv} ({self._floor + 1})")
            return self._log[bisect.bisect_right(self._log_rvs, rv) :]

    def compact(self) -> int:
        """Forget the history (as etcd compaction does): older versions then give 410 to watches."""
        with self._lock:
            self._floor = self._rv
            self._log.clear()
            self._log_rvs.clear()
            return self._floor

    def next_version(self) -> str:
        """The version the next write will get (to stamp an object before it is stored)."""
        with self._lock:
            return str(self._rv + 1)

    def put(self, resource: ResourceKey, obj: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        """Store a new state; ``obj`` must already carry ``next_version()`` as its resourceVersion."""
        with self._lock:
            rv = self._commit(obj)
            self._objects[resource][object_key(obj)] = obj
            self._uids[obj["metadata"]["uid"]] = (resource, object_key(obj))
            self._append(Event(rv, resource, "MODIFIED" if old is not None else "ADDED", obj, old))
        self._notify()
        return obj

    def remove(self, resource: ResourceKey, last: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
        """Delete an object; ``last`` is its final state, stamped with ``next_version()``."""
        with self._lock:
            rv = self._commit(last)
            self._objects[resource].pop(object_key(last), None)
            self._uids.pop(last["metadata"]["uid"], None)
            self._append(Event(rv, resource, "DELETED", last, old))
        self._notify()
        return last

    def _commit(self, obj: dict[str, Any]) -> int:
        rv = self._rv + 1
        if obj["metadata"].get("resourceVersion") != str(rv):
            raise RuntimeError("an object must be stamped with next_version() right before it is stored")
        self._rv = rv
        return rv

    def _append(self, event: Event) -> None:
        self._log.append(event)
        self._log_rvs.append(event.rv)
        if len(self._log) > self._history_limit * 2:  # trim in bulk to keep appends cheap
            dropped = len(self._log) - self._history_limit
            self._floor = self._log_rvs[dropped - 1]
            del self._log[:dropped]
            del self._log_rvs[:dropped]

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener()
