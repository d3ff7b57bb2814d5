"""Endpoint mapping: where to connect when the operator (or an app) is given an AWS hostname.

``status.endpoints`` always holds the host names AWS reports. Code that opens a connection
(migrations, probes, the database URLs built for apps) passes them through :func:`resolve`,
which applies ``Settings.endpoint_map_file`` (a JSON object of exact hosts or globs, consulted
first, re-read when its mtime changes) and then ``Settings.endpoint_map``: an ordered map of host globs to a replacement
``host[:port]``, ``[ipv6]:port`` or unix socket directory (``/run/pg`` or ``/run/pg:5433``).
The first glob that matches wins; without a match the host and port are returned unchanged.

Against AWS the map is empty. The sandbox maps ``*.rds.amazonaws.com`` to its PostgreSQL, so a
cluster's writer, reader and proxy endpoints all reach the database backing that cluster. It is
also how a cluster is reached through an SSH tunnel or a local port-forward.
"""

from __future__ import annotations

import fnmatch
import json
import os
import threading
from collections.abc import Mapping

from upskill_operator.config import Settings

__all__ = ["map_file_entries", "parse_target", "resolve"]

_cache: dict[str, tuple[tuple[int, int], dict[str, str]]] = {}
_lock = threading.Lock()


def map_file_entries(path: str | None) -> dict[str, str]:
    """The JSON object in ``Settings.endpoint_map_file`` (re-read when its mtime changes; missing = empty)."""
    if not path:
        return {}
    try:
        info = os.stat(path)
        mtime = (info.st_mtime_ns, info.st_ino)
    except FileNotFoundError:
        return {}
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
    try:
        with open(path, encoding="utf-8") as handle:
            loaded = json.load(handle)
    except FileNotFoundError:
        return {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: the endpoint map file must hold a JSON object")
    entries = {str(k): str(v) for k, v in loaded.items()}
    with _lock:
        _cache[path] = (mtime, entries)
    return entries


def parse_target(target: str, default_port: int) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port``, ``/socket/dir`` or ``/socket/dir:port`` -> (host, port)."""
    target = target.strip()
    if not target:
        raise ValueError("empty endpoint map target")
    if target.startswith("["):  # [::1]:5432
        host, _, rest = target[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    head, sep, tail = target.rpartition(":")
    if sep and tail.isdigit() and (target.startswith("/") or ":" not in head):
        return head, int(tail)
    return target, default_port


def resolve(host: str, port: int, settings: Settings | Mapping[str, str]) -> tuple[str, int]:
    """The (host, port) to connect to for an AWS endpoint, after ``Settings.endpoint_map``.

    A unix socket directory comes back as the host (psycopg and libpq accept it as such).
    """
    if isinstance(settings, Settings):
        mapping = {**map_file_entries(settings.endpoint_map_file)}
        mapping.update({k: v for k, v in settings.endpoint_map.items() if k not in mapping})
    else:
        mapping = dict(settings)
    name = host.lower().rstrip(".")
    if name in mapping:  # an exact host of the map file wins over globs
        return parse_target(mapping[name], port)
    for pattern, target in mapping.items():
        if fnmatch.fnmatchcase(name, pattern.lower()):
            return parse_target(target, port)
    return host, port
