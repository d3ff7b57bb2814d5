"""Helpers for the adversarial tests: an API server of their own with two namespaces, the victim's AWS
objects made outside the operator, and look-ups of what AWS holds afterwards.

A fresh :class:`KubeServer` (milliseconds) holds only the attacker's resources, so every AWS call the
operator makes during a test is one of theirs; the moto server and the call log are the bed's.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from upskill_operator import handlers
from upskill_operator.generate import crds
from upskill_operator.reconcile.protocol import OWNER_TAG
from upskill_sandbox.kube import KubeServer

from e2e.conftest import API, Bed, condition, wait_for
from e2e.safety_support import Objects

TABLES, DATABASES, SECRETS = "upskilltables", "upskilldatabases", "upskillsecrets"
KINDS = {TABLES: "UpskillTable", DATABASES: "UpskillDatabase", SECRETS: "UpskillSecret"}
Case = tuple[dict[str, Any], dict[str, Any] | None, str]
"""(spec, status written by the attacker or None, the Terminal reason expected)."""


def tags(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or ()}


def owner_tag(value: str) -> list[dict[str, str]]:
    return [{"Key": OWNER_TAG, "Value": value}]


@dataclass
class Arena:
    """The attacker's namespace and the victim's, on an API server of their own."""

    bed: Bed
    objects: Objects
    attacker: str
    victim: str

    def boto(self, service: str) -> Any:
        return self.bed.boto(service)

    def apply(self, plural: str, name: str, spec: dict[str, Any], status: dict[str, Any] | None = None) -> None:
        """An attacker's resource; ``status`` is written through ``/status``, as anyone allowed to patch it can."""
        doc: dict[str, Any] = {
            "apiVersion": API,
            "kind": KINDS[plural],
            "metadata": {"name": name, "namespace": self.attacker},
            "spec": spec,
        }
        if status is not None:
            doc["status"] = status
        self.bed.kube.apply_manifest(doc)

    def refused(self, plural: str, name: str, reason: str, timeout: float = 60) -> str:
        """Wait for Terminal with ``reason``; the condition's message."""

        def check() -> str | None:
            found = condition(self.objects.get(plural, self.attacker, name), "Terminal")
            return found.get("message") if found.get("status") == "True" and found.get("reason") == reason else None

        message: str = wait_for(check, timeout, f"{plural}/{name} refused with {reason}")
        return message

    def attack(self, cases: dict[str, dict[str, Case]]) -> dict[str, str]:
        """Apply every case (plural -> name -> (spec, forged status, reason expected)), start the operator with
        a clean call log, and wait for each refusal; the messages by resource name."""
        for plural, named in cases.items():
            for name, (spec, status, _) in named.items():
                self.apply(plural, name, spec, status)
        self.bed.calls.clear()
        self.bed.start_operator()
        return {
            name: self.refused(plural, name, case[2]) for plural, named in cases.items() for name, case in named.items()
        }

    def delete_all(self, plural: str, names: list[str]) -> None:
        for name in names:
            self.objects.delete(plural, self.attacker, name)
        for name in names:
            self.objects.gone(plural, self.attacker, name)

    def kube_secret(self, name: str) -> dict[str, Any] | None:
        return self.bed.kube.get("v1", "secrets", self.attacker, name)

    def never_read(self, secret_id: str) -> bool:
        """No GetSecretValue ever succeeded on it: AWS omits LastAccessedDate until one does."""
        return "LastAccessedDate" not in self.boto("secretsmanager").describe_secret(SecretId=secret_id)

    def victim_cluster(self, identifier: str, owner: str | None) -> tuple[str, str]:
        """A cluster made outside the operator (tagged ``owner`` or untagged) with an RDS-managed master secret
        holding a password; (cluster ARN, master secret ARN)."""
        cluster = self.boto("rds").create_db_cluster(
            DBClusterIdentifier=identifier,
            Engine="aurora-postgresql",
            MasterUsername="victim_admin",
            ManageMasterUserPassword=True,
            Tags=owner_tag(owner) if owner else [],
        )["DBCluster"]
        secret = str(cluster["MasterUserSecret"]["SecretArn"])
        self.boto("secretsmanager").put_secret_value(
            SecretId=secret, SecretString=json.dumps({"username": "victim_admin", "password": "victim-pw"})
        )
        return str(cluster["DBClusterArn"]), secret


@contextmanager
def arena(bed: Bed, monkeypatch: pytest.MonkeyPatch, *, databases: bool, grant: str | None = None) -> Iterator[Arena]:
    """Two fresh namespaces ``adv<hex>`` (the attacker) and ``adv<hex>-b`` (the victim): ``adv<hex>``'s
    ``b-x`` derives the same AWS names as ``adv<hex>-b``'s ``x``. The operator is started by the test,
    once the victim's objects exist; without ``databases`` it runs no UpskillDatabase controller, so a
    status written by the attacker stays as written. ``grant`` (``{attacker}`` is replaced) is the
    administrator's UPSKILL_ADOPT_SCOPES glob for the attacker's namespace."""
    attacker = f"adv{uuid.uuid4().hex[:6]}"
    victim = f"{attacker}-b"
    if not databases:
        kept = tuple(i for i in handlers.IMPLEMENTED if i.kind != "UpskillDatabase")
        monkeypatch.setattr(handlers, "IMPLEMENTED", kept)
    with KubeServer() as kube, tempfile.TemporaryDirectory() as tmp:
        for text in crds.render_all().values():
            kube.apply_manifest(yaml.safe_load(text))
        for namespace in (attacker, victim):
            kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        kubeconfig = str(kube.write_kubeconfig(Path(tmp) / "kubeconfig"))
        fast = {
            "kubeconfig": kubeconfig,
            "aws": bed.settings.aws.model_copy(update={"calls_per_second": {}}),
            "resync_seconds": 1.0,
            "secret_tick_seconds": 1.0,
            "kind_resync_seconds": {},
            "adopt_scopes": {attacker: (grant.format(attacker=attacker),)} if grant else {},
        }
        own = Bed(bed.aws, kube, bed.settings.model_copy(update=fast), bed.calls, bed.hooks)
        objects = Objects(kube, kubeconfig)
        try:
            yield Arena(own, objects, attacker, victim)
        finally:
            own.stop_operator()
            objects.api.close()
