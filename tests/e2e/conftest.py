"""The end-to-end bed: a moto server, our Kubernetes emulator, and the real operator in a thread."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import kubernetes
import pytest
from prometheus_client import REGISTRY

from upskill_operator.config import AwsSettings, Settings
from upskill_operator.generate import crds
from upskill_operator.generate.iam_policy import facades
from upskill_operator.kube.client import load_configuration
from upskill_operator.models import KINDS
from upskill_operator.models.common import API_GROUP, API_VERSION
from upskill_operator.wiring.runtime import Hooks
from upskill_sandbox.aws import MotoServer, aws_env
from upskill_sandbox.dataplane import DataPlane
from upskill_sandbox.iam_enforcer import IamEnforcer
from upskill_sandbox.kube import KubeServer
from upskill_sandbox.operator_thread import OperatorThread

from e2e.planes import PLANES

if TYPE_CHECKING:
    from e2e.safety_support import Objects

REGION = "us-east-1"
NAMESPACE = "e2e"
API = f"{API_GROUP}/{API_VERSION}"
READ_PREFIXES = ("Describe", "List", "Get")
MUTATING_OPERATIONS = frozenset(
    operation for facade in facades() for operation in facade.operations if not operation.startswith(READ_PREFIXES)
)
"""Every operation a façade declares that is not a read: what the operator could change AWS with."""


def is_mutating(operation: str) -> bool:
    """Any declared non-read, and any operation no façade declares that does not read."""
    return operation in MUTATING_OPERATIONS or not operation.startswith(READ_PREFIXES)


@dataclass
class CallLog:
    """(service, operation) of every HTTP attempt botocore makes, from any thread."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, service: str, operation: str) -> None:
        self.calls.append((service, operation))

    def mutating(self) -> list[tuple[str, str]]:
        return [c for c in list(self.calls) if is_mutating(c[1])]

    def clear(self) -> None:
        self.calls.clear()


@dataclass
class Bed:
    aws: MotoServer
    kube: KubeServer
    settings: Settings
    calls: CallLog
    hooks: Hooks = field(default_factory=Hooks)
    """The observers of the operators this bed starts; ``calls`` is always one of them."""
    operator: OperatorThread | None = None

    def __post_init__(self) -> None:
        if self.calls not in self.hooks.attempts:
            self.hooks.attempts.append(self.calls)

    def boto(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.aws.url, region_name=REGION)

    def start_operator(self) -> OperatorThread:
        assert self.operator is None, "one operator at a time"
        self.operator = OperatorThread(self.settings, self.hooks).start()
        return self.operator

    def stop_operator(self) -> None:
        if self.operator is not None:
            self.operator.stop()
            self.operator = None

    def apply(self, doc: dict[str, Any]) -> dict[str, Any]:
        doc.setdefault("metadata", {}).setdefault("namespace", NAMESPACE)
        return self.kube.apply_manifest(doc)

    def get(self, plural: str, name: str) -> dict[str, Any] | None:
        return self.kube.get(API, plural, NAMESPACE, name)

    def delete(self, plural: str, name: str) -> None:
        """Delete through the official client, as kubectl would."""
        api = kubernetes.client.ApiClient(load_configuration(self.settings.kubeconfig))
        with api:
            kubernetes.client.CustomObjectsApi(api).delete_namespaced_custom_object(
                API_GROUP, API_VERSION, NAMESPACE, plural, name
            )


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll until ``check`` returns something truthy; fail with the last value otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def last_pass(plural: str, name: str) -> float | None:
    """When the operator (a thread of this process) last ended a pass of the object, from its metrics.

    Status is no pass counter: a pass that changes nothing writes nothing (not even lastSyncTime).
    """
    kind = next(info.kind for info in KINDS if info.plural == plural)
    labels = {"kind": kind, "namespace": NAMESPACE, "name": name}
    return REGISTRY.get_sample_value("upskill_resource_last_pass_timestamp_seconds", labels)


def passes_of(plural: str, name: str, count: int, timeout: float = 30.0) -> None:
    """Wait until the object has had ``count`` more passes."""
    seen = [last_pass(plural, name)]

    def more() -> bool:
        stamp = last_pass(plural, name)
        if stamp != seen[-1]:
            seen.append(stamp)
        return len(seen) > count

    wait_for(more, timeout, f"{count} more passes of {name}")


def condition(obj: dict[str, Any] | None, ctype: str) -> dict[str, Any]:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond["type"] == ctype:
            return dict(cond)
    return {}


def is_ready(obj: dict[str, Any] | None) -> bool:
    """Ready=True for the object's current generation."""
    if not obj:
        return False
    cond = condition(obj, "Ready")
    return cond.get("status") == "True" and cond.get("observedGeneration") == obj["metadata"].get("generation")


@contextmanager
def emulators(region: str, enforcer: IamEnforcer | None = None) -> Iterator[tuple[MotoServer, KubeServer]]:
    """The moto server (seeded, and named by this process's AWS environment) and the Kubernetes emulator
    with our CRDs: what every bed of the session starts from. ``enforcer`` makes it an enforcing-IAM bed."""
    with MotoServer(enforcer=enforcer) as aws, KubeServer() as kube, pytest.MonkeyPatch.context() as env:
        for key, value in aws_env(aws.url, region).items():
            env.setenv(key, value)
        aws.seed(region)
        for text in crds.render_all().values():
            kube.apply_yaml(text)
        yield aws, kube


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bed's data plane for the tests of one module: a SCRAM-only primary with a streaming standby
    (or ``DATABASE_URL``), every emulated cluster backed on it, and a TLS front per emulated RDS endpoint.
    Yields the bed superuser's conninfo on the primary (tests' own admin checks)."""
    with DataPlane(tmp_path_factory.mktemp("plane")) as plane:
        assert plane.backends is not None
        url = plane.backends.admin_conninfo()
        PLANES[url] = plane
        try:
            yield url
        finally:
            PLANES.pop(url, None)


@pytest.fixture(scope="session")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    workdir: Path = tmp_path_factory.mktemp("bed")
    calls = CallLog()
    with emulators(REGION) as (aws, kube):
        kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        settings = Settings(
            aws=AwsSettings(endpoint_url=aws.url, region=REGION, max_attempts=2),
            kubeconfig=str(kube.write_kubeconfig(workdir / "kubeconfig")),
            metrics_port=0,
            resync_seconds=3,
            requeue_seconds=0.5,
            deep_read_every=2,  # deep reads every other resync: drift only they see is repaired within 6 s
        )
        bed = Bed(aws=aws, kube=kube, settings=settings, calls=calls)
        try:
            yield bed
        finally:
            bed.stop_operator()


@pytest.fixture
def operator(bed: Bed) -> Iterator[OperatorThread]:
    """A running operator for one test; stopped afterwards so tests can restart it at will."""
    running = bed.start_operator()
    try:
        yield running
    finally:
        bed.stop_operator()


@pytest.fixture
def objects(bed: Bed) -> Iterator[Objects]:
    """Custom objects on the bed's API server through the official client (see :class:`~.safety_support.Objects`)."""
    from e2e.safety_support import Objects

    found = Objects(bed.kube, bed.settings.kubeconfig or "")
    try:
        yield found
    finally:
        found.api.close()
