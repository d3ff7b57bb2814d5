"""``upskill-operator status`` (and ``kubectl upskill status``): every Upskill resource of a namespace on one screen.

It reads only the custom resources (get/list on upskilldatabases, upskilltables, upskillsecrets, and get on the
namespace when allowed): no Secret, no AWS call. Exit 0 when the cluster answered, 1 with a one-line reason
when it did not (unreachable, unknown context, missing namespace, RBAC, CRDs not installed), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from upskill_operator.commands.kubeopts import TIMEOUT, Cluster, KubeError, Resource, api_call, require_namespace
from upskill_operator.commands.status_render import render_namespace
from upskill_operator.commands.status_view import document, view
from upskill_operator.models import KINDS
from upskill_operator.models.common import API_GROUP, API_VERSION, KindInfo

__all__ = ["ORDER", "Selector", "fetch", "parse_selector", "run", "screen", "slow_notice", "watch"]

ORDER = ("UpskillDatabase", "UpskillTable", "UpskillSecret")
SLOW_SECONDS = 1.0
"""After this long without an answer, ``status`` says on stderr what it is waiting for."""

Selector = tuple[str | None, str | None]
"""(kind, name) picked by one RESOURCE argument; None matches any."""


def _aliases() -> dict[str, str]:
    found: dict[str, str] = {}
    for info in KINDS:
        for alias in (info.kind, info.plural, info.singular, *info.short_names):
            found[alias.lower()] = info.kind
    return found


def parse_selector(text: str) -> Selector:
    """``KIND/NAME``, ``KIND`` (all of a kind: udb, utable, usecret, or the kind's name) or ``NAME`` (any kind)."""
    aliases = _aliases()
    kind, slash, name = text.partition("/")
    if slash:
        if kind.lower() not in aliases or not name:
            known = ", ".join(sorted(aliases))
            raise argparse.ArgumentTypeError(f"{text!r}: KIND/NAME needs a kind among {known}")
        return aliases[kind.lower()], name
    if text.lower() in aliases:
        return aliases[text.lower()], None
    return None, text


def _matches(kind: str, name: str, selectors: Sequence[Selector]) -> bool:
    return not selectors or any(k in (None, kind) and n in (None, name) for k, n in selectors)


def _info(kind: str) -> KindInfo:
    return next(info for info in KINDS if info.kind == kind)


def _list(cluster: Cluster, info: KindInfo, namespace: str | None) -> list[Mapping[str, Any]]:
    from kubernetes.client.exceptions import ApiException

    custom = cluster.kube.custom
    resource = Resource(info.plural, API_GROUP)

    def call() -> Any:
        if namespace is None:
            return custom.list_cluster_custom_object(API_GROUP, API_VERSION, info.plural, _request_timeout=TIMEOUT)
        return custom.list_namespaced_custom_object(
            API_GROUP, API_VERSION, namespace, info.plural, _request_timeout=TIMEOUT
        )

    try:
        found = api_call(cluster, "list", resource, namespace, call)
    except ApiException:
        raise KubeError(
            f"the {info.kind} CRD ({resource}) is not installed on this cluster (context "
            f'"{cluster.context}"): kubectl apply --server-side -f crds/'
        ) from None
    return [item for item in (found.get("items") or ()) if isinstance(item, Mapping)]


def fetch(cluster: Cluster, namespace: str | None, selectors: Sequence[Selector] = ()) -> list[dict[str, Any]]:
    """The views of the selected resources of ``namespace`` (every namespace when None), in screen order."""
    if namespace is not None:
        require_namespace(cluster, namespace)
    views = [
        view(kind, body)
        for kind in ORDER
        if any(k in (None, kind) for k, _ in selectors) or not selectors
        for body in _list(cluster, _info(kind), namespace)
        if _matches(kind, str((body.get("metadata") or {}).get("name", "")), selectors)
    ]
    for kind, name in selectors:
        if name is not None and not any(v["name"] == name and kind in (None, v["kind"]) for v in views):
            where = f'namespace "{namespace}"' if namespace else "any namespace"
            if kind:
                raise KubeError(f'{kind} "{name}" not found in {where}')
            raise KubeError(f'no UpskillDatabase, UpskillTable or UpskillSecret named "{name}" in {where}')
    views.sort(key=lambda v: (v["namespace"], ORDER.index(v["kind"]), v["name"]))
    return views


def screen(cluster: Cluster, namespace: str | None, views: Sequence[Mapping[str, Any]], output: str) -> str:
    """The text ``status`` prints: the namespace screens, or the JSON document."""
    asked = [namespace] if namespace is not None else []
    if output == "json":
        return json.dumps(document(cluster.context, views, asked), indent=2)
    names = sorted({*asked, *(str(v["namespace"]) for v in views)})
    if not names:
        return f"No UpskillDatabase, UpskillTable or UpskillSecret in any namespace (context {cluster.context})"
    return "\n\n".join(
        render_namespace(ns, cluster.context, [v for v in views if v["namespace"] == ns]) for ns in names
    )


@contextmanager
def slow_notice(err: TextIO, message: str, after: float = SLOW_SECONDS) -> Iterator[None]:
    """Print ``message`` on ``err`` once if the block is still running ``after`` seconds in."""
    timer = threading.Timer(after, lambda: print(message, file=err, flush=True))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def watch(
    read: Callable[[], str], out: TextIO, err: TextIO, interval: float, stop: threading.Event | None = None
) -> int:
    """Redraw until Ctrl-C (or ``stop``): a cleared screen on a terminal, else each screen that differs."""
    stop = stop or threading.Event()
    tty = out.isatty()
    shown = None
    try:
        while not stop.is_set():
            try:
                text = read()
            except KubeError as exc:
                print(f"error: {exc} (retrying every {interval:g}s)", file=err, flush=True)
            else:
                if tty:
                    stamp = time.strftime("%H:%M:%S")
                    out.write(f"\x1b[H\x1b[2J{text}\n\nEvery {interval:g}s, at {stamp}; Ctrl-C to stop\n")
                elif text != shown:
                    out.write(text + "\n" + ("" if text.startswith("{") else "\n"))
                out.flush()
                shown = text
            stop.wait(interval)
    except KeyboardInterrupt:
        pass
    return 0


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from upskill_operator.commands.kubeopts import open_cluster

    out, err = out or sys.stdout, err or sys.stderr
    try:
        cluster = open_cluster(args)
    except KubeError as exc:
        print(f"error: {exc}", file=err)
        return 1
    namespace = None if args.all_namespaces else cluster.namespace
    selectors: list[Selector] = list(args.resources or ())
    where = f'namespace "{namespace}"' if namespace else "all namespaces"
    notice = f"waiting for the Kubernetes API at {cluster.server} (context {cluster.context}, {where}) ..."

    json_lines = args.watch and args.output == "json"

    def read() -> str:
        with slow_notice(err, notice):
            views = fetch(cluster, namespace, selectors)
        if json_lines:
            return json.dumps(document(cluster.context, views, [namespace] if namespace else []))
        return screen(cluster, namespace, views, args.output)

    try:
        try:
            first = read()  # a watch starts only on a cluster that answers
        except KubeError as exc:
            print(f"error: {exc}", file=err)
            return 1
        if not args.watch:
            print(first, file=out)
            return 0
        return watch(read, out, err, args.interval)
    finally:
        cluster.close()
