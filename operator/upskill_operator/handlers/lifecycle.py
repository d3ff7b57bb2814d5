"""Operator-wide hooks: login, start-up (clients, engines, metrics server) and cleanup."""

from __future__ import annotations

import logging
import socket
from typing import Any
from wsgiref.simple_server import WSGIServer

import kopf
from prometheus_client import start_http_server

from upskill_operator.config import Settings
from upskill_operator.handlers import admission, logs
from upskill_operator.handlers.resource import REQUEUE_PREFIX
from upskill_operator.kube.client import load_configuration
from upskill_operator.wiring.runtime import Hooks, build_runtime

__all__ = ["EVENT_SOURCE", "STORAGE_PREFIX", "ProgressAnnotations", "StatusDiffBase", "register", "serve_metrics"]

STORAGE_PREFIX = "upskill.io"
"""The prefix of kopf's progress annotations (``upskill.io/<handler>``) on our objects."""

EVENT_SOURCE = "upskill-operator"
"""reportingComponent and source.component of the operator's Events."""

log = logging.getLogger(__name__)


def _connection_info(settings: Settings) -> kopf.ConnectionInfo:
    """kopf's credentials from the same kubeconfig (or in-cluster account) the façade uses."""
    config = load_configuration(settings.kubeconfig)
    header = config.get_api_key_with_prefix("BearerToken") or config.get_api_key_with_prefix("authorization")
    scheme, _, token = (header or "").rpartition(" ")
    return kopf.ConnectionInfo(
        server=config.host,
        ca_path=config.ssl_ca_cert,
        insecure=not config.verify_ssl,
        scheme=scheme or None,
        token=token or None,
        certificate_path=config.cert_file,
        private_key_path=config.key_file,
    )


class StatusDiffBase(kopf.MultiDiffBaseStorage):
    """kopf's diff base in ``status.lastHandledConfiguration``, read from the annotation earlier versions wrote.

    In an annotation, the diff base costs a PATCH of the object after every handled change, besides
    the status PATCH; in status, it goes out in the status PATCH kopf makes anyway. A resource from
    an earlier version has only the annotation: it is read (so no change is replayed) and left
    alone; the next handled change writes the diff base here.
    """

    def __init__(self) -> None:
        status = kopf.StatusDiffBaseStorage(field="status.lastHandledConfiguration")
        super().__init__(
            [status, kopf.AnnotationsDiffBaseStorage(prefix=STORAGE_PREFIX, key="last-handled-configuration")]
        )
        self.status = status

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        self.status.store(body=body, patch=patch, essence=essence)


class ProgressAnnotations(kopf.AnnotationsProgressStorage):
    """kopf's progress records in ``upskill.io/<handler>`` annotations, without kopf's prefix marker.

    kopf also writes ``upskill.io/kopf-managed: yes`` the first time it stores progress, which on a
    new object is its first handled pass: an object PATCH of its own, after the finalizer's and
    besides the status PATCH. The marker tells *other* kopf-based operators to leave these
    annotations out of what they diff; this operator leaves them out by prefix (kopf clears a
    progress storage's own prefix from both sides of every diff), and no other operator handles
    our kinds. Without it a resource costs two writes to be created: the finalizer, then status.
    """

    def _store_marker(self, prefix: str, patch: kopf.Patch, body: kopf.Body) -> None:
        return None


def serve_metrics(config: Settings) -> WSGIServer | None:
    """Start the Prometheus server on ``metrics_address:metrics_port``; None when the port is 0."""
    if not config.metrics_port:
        return None
    server, _ = start_http_server(config.metrics_port, addr=config.metrics_address)
    log.info("metrics served on %s:%d/metrics", config.metrics_address, config.metrics_port)
    return server


def register(registry: kopf.OperatorRegistry, config: Settings, hooks: Hooks | None = None) -> None:
    def login(**_: Any) -> kopf.ConnectionInfo:
        return _connection_info(config)

    def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
        settings.persistence.finalizer = config.finalizer
        settings.persistence.progress_storage = ProgressAnnotations(prefix=STORAGE_PREFIX)
        settings.persistence.diffbase_storage = StatusDiffBase()
        settings.execution.max_workers = config.workers
        # kopf's log lines never become Events (kopf would repeat one on every retry); the handlers post
        # the operator's own, once per transition (handlers/events.py), shown as "From upskill-operator".
        settings.posting.loggers = False
        settings.posting.reporting_component = EVENT_SOURCE
        settings.posting.reporting_instance = socket.gethostname()[:128] or EVENT_SOURCE
        settings.posting.event_name_prefix = f"{EVENT_SOURCE}-"
        settings.watching.server_timeout = 300
        settings.networking.request_timeout = 60
        # A resync timer still finishing its pass when its resource is deleted is re-checked after this
        # many seconds before the finalizer can go (kopf's default, 60 s, held deletions for a minute).
        settings.background.cancellation_polling = 1.0
        logs.install(REQUEUE_PREFIX)
        settings.admission.server = admission.server(config)
        memo["runtime"] = build_runtime(config, hooks)
        serve_metrics(config)

    def cleanup(memo: kopf.Memo, **_: Any) -> None:
        runtime = memo.get("runtime")
        if runtime is not None:
            runtime.close()

    kopf.on.login(registry=registry)(login)
    kopf.on.startup(registry=registry)(startup)
    kopf.on.cleanup(registry=registry)(cleanup)
