"""The arguments of ``connect`` and of ``forward`` (the forwarder pod's relay)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from upskill_operator import __version__
from upskill_operator.commands.connect_forward import parse_route
from upskill_operator.commands.kubeopts import add_kube_options

__all__ = ["DEFAULT_IMAGE", "add_connect_command", "add_forward_command"]

DEFAULT_IMAGE = f"upskill-operator:{__version__}"

Handler = Callable[[argparse.Namespace], int]


def add_connect_command(sub: Any, connect: Handler) -> None:
    """``connect``, with kubectl's options (also ``kubectl upskill connect``)."""
    con = sub.add_parser(
        "connect",
        help="write .env.local with the values a namespace's apps get, tunnelled to this machine",
        description="Read what the namespace's UpskillSecrets and UpskillTables deliver (or the RESOURCEs named) "
        "and write it to an env file (0600). On a cluster, proxy endpoints are reached through a forwarder pod "
        "and the port-forward API, with TLS verified on both sides; in the sandbox the values are written as "
        "delivered. Rewrites the file when a value changes; Ctrl-C closes everything.",
    )
    con.add_argument("resource", nargs="*", help="usecret/NAME, utable/NAME or NAME (default: all in the namespace)")
    add_kube_options(con)
    con.add_argument("--env-file", type=Path, default=Path(".env.local"), help="file to write (default .env.local)")
    con.add_argument("--once", action="store_true", help="write the file and exit (sandbox only)")
    con.add_argument("--interval", type=float, default=5.0, help="seconds between re-reads (default 5)")
    con.add_argument("--image", default=DEFAULT_IMAGE, help=f"forwarder pod image (default {DEFAULT_IMAGE})")
    con.add_argument("--max-hours", type=float, default=12.0, help="forwarder pod lifetime (default 12)")
    con.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the pod (default 120)")
    con.set_defaults(func=connect)


def add_forward_command(sub: Any, forward: Handler) -> None:
    """``forward``: what the forwarder pod runs (not a kubectl plugin command)."""
    fwd = sub.add_parser(
        "forward",
        help="relay TCP ports to hosts (what connect's forwarder pod runs)",
        description="Listen on 127.0.0.1:LISTEN and relay every connection to HOST:PORT, for each --route.",
    )
    fwd.add_argument("--route", type=parse_route, action="append", required=True, help="LISTEN=HOST:PORT")
    fwd.add_argument("--timeout", type=float, default=10.0, help="seconds to connect upstream (default 10)")
    fwd.set_defaults(func=forward)
