"""Run a crash scenario: a clean run that records its steps, and a run killed at one step then restarted.

Every run gets a namespace of its own and an operator that watches only that namespace, so
runs share the emulators without seeing each other's resources. A killed run must reach the
step it is armed for (the same step the clean run recorded there), and the operator that
restarts after it must leave the namespace consistent (:func:`consistency.problems`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upskill_operator.config import AwsSettings, Settings
from upskill_operator.wiring.runtime import Hooks
from upskill_sandbox.aws import MotoServer
from upskill_sandbox.crash import CrashSwitch, Step
from upskill_sandbox.kube import KubeServer
from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import wait_for
from faults.consistency import API, PLURALS, problems, restart_problems
from faults.crash_cases import Scenario
from faults.inventory import Clients
from faults.rds_rotation import RdsRotation

__all__ = ["CrashBed", "Outcome"]

REGION = "us-east-1"
TIMEOUT = 40.0


@dataclass
class Outcome:
    """What one killed-and-restarted run found."""

    step: Step | None
    """The step the dead operator made last (None: it never got there)."""
    problems: list[str] = field(default_factory=list)


class CrashBed:
    """The shared emulators, the crash switch, and one operator at a time (all given ``hooks``)."""

    def __init__(self, aws: MotoServer, kube: KubeServer, switch: CrashSwitch, workdir: Path, hooks: Hooks) -> None:
        self.aws, self.kube, self.switch, self.hooks = aws, kube, switch, hooks
        self.clients = Clients(aws)
        self.kubeconfig = str(kube.write_kubeconfig(workdir / "kubeconfig"))
        self._ids = itertools.count()

    def settings(self, namespace: str) -> Settings:
        return Settings(
            aws=AwsSettings(endpoint_url=self.aws.url, region=REGION, max_attempts=2, calls_per_second={}),
            kubeconfig=self.kubeconfig,
            metrics_port=0,
            resync_seconds=60,
            requeue_seconds=0.2,
            kind_resync_seconds={},
            secret_tick_seconds=1,
            namespaces=(namespace,),
        )

    def namespace(self, kind: str) -> str:
        name = f"c{next(self._ids)}-{kind.replace('+', '-')}"
        self.kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        return name

    def apply(self, namespace: str, docs: list[dict[str, Any]]) -> None:
        for doc in docs:
            self.kube.apply_manifest({**doc, "metadata": {**doc["metadata"], "namespace": namespace}})

    @contextmanager
    def emulating(self, namespace: str, scenario: Scenario) -> Iterator[RdsRotation | None]:
        """RDS's side of master password rotations, for scenarios that count them."""
        if scenario.master_versions is None:
            yield None
            return
        rds = RdsRotation(self.clients, f"upskill-{namespace}-db")
        try:
            with self.hooks.added(attempt=rds):
                yield rds
        finally:
            rds.settle()

    def _wait_done(self, namespace: str, scenario: Scenario, what: str) -> None:
        try:
            wait_for(lambda: self._done(namespace, scenario), TIMEOUT, what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {self._describe(namespace, scenario)}") from None

    def _describe(self, namespace: str, scenario: Scenario) -> str:
        out = []
        for doc in scenario.applied():
            obj = self.kube.get(API, PLURALS[doc["kind"]], namespace, doc["metadata"]["name"]) or {}
            status = obj.get("status") or {}
            ready = [c for c in status.get("conditions") or [] if c["type"] == "Ready"]
            fields = {k: v for k, v in status.items() if k in ("rotationRequest", "rotationRequestedTime", "versionId")}
            out.append(f"{doc['kind']} {doc['metadata']['name']}: {ready} {fields}")
        return "; ".join(out)

    def _done(self, namespace: str, scenario: Scenario) -> bool:
        for doc in scenario.applied():
            obj = self.kube.get(API, PLURALS[doc["kind"]], namespace, doc["metadata"]["name"])
            if not obj or not _ready(obj) or not scenario.done(obj):
                return False
        return True

    def _prepare(self, scenario: Scenario) -> tuple[str, int]:
        """A fresh namespace in the scenario's prepared state; returns it and the Deployment's generation."""
        namespace = self.namespace(scenario.kind)
        prepared = scenario.prepared()
        self.apply(namespace, prepared)
        if any(d["apiVersion"] == API for d in prepared):
            with OperatorThread(self.settings(namespace), self.hooks):
                wait_for(lambda: all(self._ready_doc(namespace, d) for d in prepared), TIMEOUT, "prepared state")
        web = self.kube.get("apps/v1", "deployments", namespace, "web")
        return namespace, int(web["metadata"]["generation"]) if web else 0

    def _ready_doc(self, namespace: str, doc: Mapping[str, Any]) -> bool:
        if doc["apiVersion"] != API:
            return True
        obj = self.kube.get(API, PLURALS[doc["kind"]], namespace, doc["metadata"]["name"])
        return bool(obj and _ready(obj))

    def record(self, scenario: Scenario) -> list[Step]:
        """The steps of a clean run, in order."""
        namespace, _ = self._prepare(scenario)
        self.switch.arm(None)
        self.apply(namespace, scenario.applied())
        with self.emulating(namespace, scenario), OperatorThread(self.settings(namespace), self.hooks):
            self._wait_done(namespace, scenario, f"clean {scenario.kind} run")
        steps = list(self.switch.steps)
        self.switch.disarm()
        return steps

    def crash(self, scenario: Scenario, at: int) -> Outcome:
        """Kill the operator right after step ``at``, restart it, and check the namespace."""
        namespace, generation = self._prepare(scenario)
        self.switch.arm(at)
        self.apply(namespace, scenario.applied())
        with self.emulating(namespace, scenario):
            dead = OperatorThread(self.settings(namespace), self.hooks).start()
            try:
                self.switch.killed.wait(TIMEOUT)
            finally:
                dead.kill()
        assert not dead.alive, "the killed operator did not stop"
        killed = self.switch.killed.is_set()
        step = self.switch.steps[at] if killed else None
        self.switch.revive()
        if not killed:
            return Outcome(None, [f"the run ended after {len(self.switch.steps)} steps, before step {at}"])
        with self.emulating(namespace, scenario), OperatorThread(self.settings(namespace), self.hooks):
            try:
                self._wait_done(namespace, scenario, "Ready after the restart")
            except AssertionError as exc:
                return Outcome(step, [str(exc)[:600], *self._check(namespace, scenario, generation)])
            found = self._check(namespace, scenario, generation)
        return Outcome(step, found)

    def _check(self, namespace: str, scenario: Scenario, generation: int) -> list[str]:
        docs = scenario.applied()
        found = problems(self.clients, self.kube, namespace, docs, scenario.versions)
        if generation:
            secret = next(d for d in docs if d["kind"] == "UpskillSecret")["metadata"]["name"]
            obj = self.kube.get(API, PLURALS["UpskillSecret"], namespace, secret)
            if obj is not None and obj.get("status", {}).get("versionId"):
                found += restart_problems(self.kube, namespace, obj, "web", scenario.rolls, generation)
        if scenario.master_versions is not None:
            have = RdsRotation(self.clients, f"upskill-{namespace}-db").versions()
            if have != scenario.master_versions:
                found.append(
                    f"the master secret has {have} versions, not {scenario.master_versions}: RDS rotated it "
                    f"{have - 1} times for {scenario.master_versions - 1} rotation asked"
                )
        return found


def _ready(obj: Mapping[str, Any]) -> bool:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond["type"] == "Ready":
            return bool(cond["status"] == "True" and cond.get("observedGeneration") == obj["metadata"]["generation"])
    return False
