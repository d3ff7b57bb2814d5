"""Endpoint mapping: where to connect when the operator (or an app) is given an AWS hostname.

``status.endpoints`` always holds the host names AWS reports. Code that opens a connection
(migrations, probes, the database URLs built for apps) passes them through :func:`resolve`,
which applies ``Settings.endpoint_map``: an ordered map of host globs to a replacement
``host[:port]``, ``[ipv6]:port`` or unix socket directory (``/run/pg`` or ``/run/pg:5433``).
The first glob that matches wins; without a match the host and port are returned unchanged.

Against AWS the map is empty. The sandbox maps ``*.rds.amazonaws.com`` to its PostgreSQL, so a
cluster's writer, reader and proxy endpoints all reach the database backing that cluster. It is
also how a cluster is reached through an SSH tunnel or a local port-forward.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from upskill_operator.config import Settings

__all__ = ["parse_target", "resolve"]


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
    mapping = settings.endpoint_map if isinstance(settings, Settings) else settings
    name = host.lower().rstrip(".")
    for pattern, target in mapping.items():
        if fnmatch.fnmatchcase(name, pattern.lower()):
            return parse_target(target, port)
    return host, port
