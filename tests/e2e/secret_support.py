"""Helpers for the UpskillSecret end-to-end tests: documents, waits and AWS/Kubernetes look-ups."""

from __future__ import annotations

import base64
import json
import logging
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from prometheus_client import REGISTRY

from upskill_operator import handlers
from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import API, NAMESPACE, REGION, Bed, condition, is_ready, passes_of, wait_for
from unit.crd_support import example

PLURAL = "upskillsecrets"
PROXY = "upskill-auth.proxy-abc.us-east-1.rds.amazonaws.com"
WRITER = "upskill-auth.cluster-abc.us-east-1.rds.amazonaws.com"


def fast_operators(bed: Bed, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> None:
    """Operators started from now on in this test have fast clocks (1 s resync and refresh tick) and no
    UpskillDatabase controller: these tests write UpskillDatabase statuses themselves."""
    fast = {"resync_seconds": 1.0, "secret_tick_seconds": 1.0, **settings}
    monkeypatch.setattr(bed, "settings", bed.settings.model_copy(update=fast))
    monkeypatch.setattr(handlers, "IMPLEMENTED", tuple(i for i in handlers.IMPLEMENTED if i.kind != "UpskillDatabase"))


@contextmanager
def secrets_operator(bed: Bed, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> Iterator[OperatorThread]:
    """A running operator as :func:`fast_operators` describes, stopped on exit."""
    fast_operators(bed, monkeypatch, **settings)
    running = bed.start_operator()
    try:
        yield running
    finally:
        bed.stop_operator()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def secret_doc(name: str, source: dict[str, Any], **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"source": source, **spec}
    return {"apiVersion": API, "kind": "UpskillSecret", "metadata": {"name": name}, "spec": body}


def aws_name(name: str) -> str:
    return f"upskill/{NAMESPACE}/{name}"


def ready(bed: Bed, name: str, timeout: float = 30) -> dict[str, Any]:
    return wait_for(lambda: (obj := bed.get(PLURAL, name)) and is_ready(obj) and obj, timeout, f"{name} Ready")


def waiting(bed: Bed, name: str, text: str, timeout: float = 30) -> dict[str, Any]:
    """Wait until the Ready condition is False with a message containing ``text``."""

    def check() -> dict[str, Any] | None:
        obj = bed.get(PLURAL, name)
        cond = condition(obj, "Ready")
        return obj if obj and cond.get("status") == "False" and text in cond.get("message", "") else None

    return wait_for(check, timeout, f"{name} waiting for {text!r}")


def terminal(bed: Bed, name: str, timeout: float = 30) -> dict[str, Any]:
    return wait_for(
        lambda: (o := bed.get(PLURAL, name)) and condition(o, "Terminal").get("status") == "True" and o,
        timeout,
        f"{name} Terminal",
    )


def settle(bed: Bed, name: str, passes: int = 2) -> None:
    """Wait until the resource has had ``passes`` more passes."""
    passes_of(PLURAL, name, passes)


def kube_secret(bed: Bed, name: str) -> dict[str, Any] | None:
    return bed.kube.get("v1", "secrets", NAMESPACE, name)


def kube_value(bed: Bed, secret: str, key: str) -> str | None:
    found = kube_secret(bed, secret)
    raw = ((found or {}).get("data") or {}).get(key)
    return base64.b64decode(raw).decode() if raw is not None else None


def put_kube_secret(bed: Bed, name: str, data: dict[str, str]) -> None:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    bed.kube.apply_manifest(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NAMESPACE}, "data": encoded}
    )


def aws_value(bed: Bed, name: str) -> str:
    return str(bed.boto("secretsmanager").get_secret_value(SecretId=aws_name(name))["SecretString"])


def versions(bed: Bed, name: str) -> list[dict[str, Any]]:
    sm = bed.boto("secretsmanager")
    return list(sm.list_secret_version_ids(SecretId=aws_name(name), IncludeDeprecated=True)["Versions"])


def deployment(bed: Bed, name: str, secret: str, key: str) -> dict[str, Any]:
    """A Deployment reading ``key`` of ``secret`` as an environment variable."""
    env = [{"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}]
    return bed.kube.apply_manifest(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "app", "image": "web:1", "env": env}]},
                },
            },
        }
    )


def template_annotations(bed: Bed, name: str) -> dict[str, str]:
    found = bed.kube.get("apps/v1", "deployments", NAMESPACE, name) or {}
    return dict(((found.get("spec") or {}).get("template") or {}).get("metadata", {}).get("annotations") or {})


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def canned(status: int, body: bytes, content_type: str = "application/x-amz-json-1.1") -> AWSResponse:
    """An HTTP answer an attempt observer returns instead of sending the request."""
    return AWSResponse("https://canned.invalid/", status, {"Content-Type": content_type}, _Raw(body))


class CrashAfter:
    """An attempt observer that simulates the operator dying right after ``operation`` reached AWS.

    The first attempt of ``operation`` is held until the test has stopped the operator
    (:attr:`reached`, then :attr:`release`); it is then sent, so AWS applies it, and every later
    attempt of that worker thread (the rest of the dead operator's pass) fails with HTTP 500.
    :attr:`after` is set once the held write has returned.
    """

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.reached = threading.Event()
        self.release = threading.Event()
        self.after = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, service: str, operation: str) -> AWSResponse | None:
        me = threading.current_thread()
        if self._thread is None and operation == self.operation:
            self._thread = me
            self.reached.set()
            self.release.wait(60)
            return None
        if me is self._thread:
            self.after.set()
            return canned(500, b'{"__type":"InternalFailure","message":"the operator is gone"}')
        return None


__all__ = [
    "PLURAL",
    "REGION",
    "CrashAfter",
    "aws_name",
    "aws_value",
    "canned",
    "deployment",
    "fast_operators",
    "kube_secret",
    "kube_value",
    "put_kube_secret",
    "ready",
    "secret_doc",
    "secrets_operator",
    "settle",
    "template_annotations",
    "terminal",
    "unique",
    "versions",
    "waiting",
]


# -- UpskillDatabase objects written by the tests (no database controller runs) --


_CLUSTERS: dict[str, str] = {}
"""Master secret ARN -> the emulated cluster it belongs to."""


def master_secret(bed: Bed, username: str, password: str) -> str:
    """An emulated cluster whose RDS-managed master secret (``rds!cluster-...``) holds these credentials.

    The operator reads a database's credentials only from a cluster RDS reports as that database's (its
    owner tag, which :func:`apply_database` sets), and only from the master secret RDS names for it.
    """
    identifier = f"upskill-auth-{uuid.uuid4().hex[:8]}"
    cluster = bed.boto("rds").create_db_cluster(
        DBClusterIdentifier=identifier,
        Engine="aurora-postgresql",
        MasterUsername=username,
        ManageMasterUserPassword=True,
    )["DBCluster"]
    arn = str(cluster["MasterUserSecret"]["SecretArn"])
    bed.boto("secretsmanager").put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": username, "password": password})
    )
    _CLUSTERS[arn] = identifier
    return arn


def database_status(secret_arn: str, *, ready: bool = True, proxy: str = PROXY, port: int = 5432) -> dict[str, Any]:
    return {
        "conditions": [
            {
                "type": "Ready",
                "status": "True" if ready else "False",
                "reason": "Available" if ready else "Creating",
                "message": "",
                "lastTransitionTime": "2025-01-01T00:00:00Z",
                "observedGeneration": 1,
            }
        ],
        "endpoints": {"writer": WRITER, "proxy": proxy},
        "port": port,
        "clusterIdentifier": _CLUSTERS.get(secret_arn, "upskill-auth"),
        "masterUserSecretArn": secret_arn,
    }


def apply_database(
    bed: Bed, name: str, status: dict[str, Any] | None = None, dbname: str = "auth", iam_auth: str = "Disabled"
) -> None:
    """The UpskillDatabase ``name`` with ``status``; its emulated cluster is tagged as that database's.

    ``iam_auth`` is its spec.proxy.iamAuth: Disabled by default, so the master user's value is a password URL.
    """
    spec = {**example("UpskillDatabase", "auth-db")["spec"], "databaseName": dbname}
    spec["proxy"] = {**spec.get("proxy", {}), "iamAuth": iam_auth}
    doc: dict[str, Any] = {"apiVersion": API, "kind": "UpskillDatabase", "metadata": {"name": name}, "spec": spec}
    if status is not None:
        doc["status"] = status
        own_cluster(bed, status["clusterIdentifier"], f"{NAMESPACE}/{name}")
    bed.apply(doc)


def own_cluster(bed: Bed, identifier: str, owner: str) -> None:
    """Tag an emulated cluster with the owner tag the database controller would have given it."""
    if identifier not in _CLUSTERS.values():
        return
    rds = bed.boto("rds")
    arn = rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]["DBClusterArn"]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "upskill.io/owner", "Value": owner}])


# -- the leak scan --

EMULATOR_LOGGERS = ("moto", "werkzeug", "kmock", "aiohttp.access", "aiohttp.server", "upskill_sandbox")
VERBOSE = ("kopf", "botocore", "boto3", "urllib3", "kubernetes", "upskill_operator", "asyncio")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(EMULATOR_LOGGERS):
            return
        text = f"{record.name} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@contextmanager
def debug_logs() -> Iterator[Capture]:
    """DEBUG everywhere, set before the operator starts (as ``--verbose`` would); records captured."""
    handler = Capture()
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in ("", *VERBOSE)}
    root.addHandler(handler)
    for name in ("", *VERBOSE):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def forms(value: str) -> set[str]:
    """A value as it could leak: plain, base64 (Kubernetes data), percent-encoded (URLs)."""
    out = {value, base64.b64encode(value.encode()).decode(), urllib.parse.quote(value, safe="")}
    return {v for v in out if len(v) >= 6}


def everything_visible(bed: Bed, capture: Capture) -> dict[str, str]:
    labels = [value for metric in REGISTRY.collect() for sample in metric.samples for value in sample.labels.values()]
    return {
        "logs": "\n".join(capture.lines),
        "events": json.dumps(bed.kube.list("v1", "events", NAMESPACE)),
        "objects": json.dumps(bed.kube.list(API, PLURAL, NAMESPACE)),
        "metric labels": "\n".join(labels),
    }
