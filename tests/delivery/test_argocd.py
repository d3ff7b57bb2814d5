"""Argo CD: the Lua health checks, run by a real Lua 5.1 interpreter, and the Applications.

The sample resources carry conditions written by the operator's own code
(``reconcile.conditions.render``), so the health check is tested against what the operator
really writes, in every phase: no status yet, progressing, Ready, Recoverable, Terminal, a newer
generation not reconciled yet, deleting, and deletion blocked.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jq
import lupa.lua51
import pytest

from delivery.kustomize import KUSTOMIZATION_FILES, ROOT, build, one
from upskill_operator.models import KINDS
from upskill_operator.reconcile.conditions import phase_for, render
from upskill_operator.reconcile.outcome import Outcome, State

HEALTH_KEY = "resource.customizations.health.upskill.io_{kind}"
NOW = "2026-01-01T00:00:00Z"


def _scripts() -> dict[str, str]:
    data: dict[str, str] = one(build("manifests/argocd/health"), "ConfigMap", "argocd-cm")["data"]
    return data


def health(script: str, obj: dict[str, Any]) -> tuple[str, str]:
    """(status, message) as Argo CD would compute them (gopher-lua speaks Lua 5.1)."""
    lua = lupa.lua51.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(script)
    return str(result["status"]), str(result["message"] or "")


def resource(kind: str, generation: int = 1, **status: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "upskill.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": "x", "namespace": "upskill", "generation": generation},
        "spec": {},
    }
    if status:
        body["status"] = status
    return body


def reconciled(kind: str, outcome: Outcome, generation: int = 1, deleting: bool = False) -> dict[str, Any]:
    """A resource whose status the operator wrote for ``outcome`` at ``generation``."""
    return resource(
        kind,
        generation,
        conditions=render([], outcome, generation, NOW),
        phase=phase_for(outcome, None, deleting).value,
        observedGeneration=generation,
        message=outcome.message,
    )


READY = Outcome(State.READY, "Available", "every object is in place")
CREATING = Outcome(State.PROGRESSING, "Creating", "waiting for the cluster to be available")
THROTTLED = Outcome(State.RECOVERABLE, "ThrottlingException", "rds:ModifyDBCluster failed with ThrottlingException")
IMMUTABLE = Outcome(State.TERMINAL, "ImmutableField", "spec.keys cannot change")
BLOCKED = Outcome(State.BLOCKED, "DeletionProtected", "set deletionProtection: false to delete")


def test_every_kind_has_a_health_check() -> None:
    scripts = _scripts()
    for info in KINDS:
        assert HEALTH_KEY.format(kind=info.kind) in scripts, f"no Argo CD health check for {info.kind}"
    assert "resource.customizations.health.argoproj.io_Application" in scripts


@pytest.mark.parametrize("kind", [info.kind for info in KINDS])
def test_health_in_every_phase(kind: str) -> None:
    script = _scripts()[HEALTH_KEY.format(kind=kind)]
    assert health(script, resource(kind)) == ("Progressing", "Waiting for the operator to reconcile")

    status, message = health(script, reconciled(kind, READY))
    assert status == "Healthy"
    assert "Available" in message

    status, message = health(script, reconciled(kind, CREATING))
    assert status == "Progressing"
    assert "waiting for the cluster" in message

    status, message = health(script, reconciled(kind, THROTTLED))
    assert status == "Progressing"
    assert "ThrottlingException" in message

    status, message = health(script, reconciled(kind, IMMUTABLE))
    assert status == "Degraded"
    assert "ImmutableField: spec.keys cannot change" in message

    # A newer spec (the fix of a Terminal one, say) is Progressing until the operator has seen it.
    for outcome in (READY, IMMUTABLE):
        ahead = reconciled(kind, outcome, generation=1)
        ahead["metadata"]["generation"] = 2
        status, message = health(script, ahead)
        assert status == "Progressing"
        assert "Generation 2" in message

    deleting = reconciled(kind, Outcome(State.PROGRESSING, "Deleting", "waiting for AWS"), deleting=True)
    deleting["metadata"]["deletionTimestamp"] = NOW
    status, message = health(script, deleting)
    assert status == "Progressing"
    assert message.startswith("Deleting")

    blocked = reconciled(kind, BLOCKED, deleting=True)
    blocked["metadata"]["deletionTimestamp"] = NOW
    status, message = health(script, blocked)
    assert status == "Degraded"
    assert "DeletionProtected" in message


def test_a_ready_condition_for_an_older_generation_is_not_healthy() -> None:
    script = _scripts()[HEALTH_KEY.format(kind=KINDS[0].kind)]
    obj = reconciled(KINDS[0].kind, READY, generation=3)
    obj["status"]["conditions"][0]["observedGeneration"] = 2  # Ready describes generation 2
    assert health(script, obj)[0] == "Progressing"


def test_child_application_health_is_passed_through() -> None:
    script = _scripts()["resource.customizations.health.argoproj.io_Application"]
    app = {"status": {"health": {"status": "Degraded", "message": "boom"}}}
    assert health(script, app) == ("Degraded", "boom")
    assert health(script, {})[0] == "Progressing"


def _apps() -> dict[str, dict[str, Any]]:
    return {a["metadata"]["name"]: a for a in build("manifests/argocd") if a["kind"] == "Application"}


def test_applications_point_at_real_folders_in_sync_waves() -> None:
    apps = _apps()
    operator, stack = apps["upskill-operator"], apps["upskill-stack"]
    for app in (operator, stack):
        assert any((ROOT / app["spec"]["source"]["path"] / name).exists() for name in KUSTOMIZATION_FILES)
        assert app["metadata"]["namespace"] == "argocd"
    assert stack["spec"]["source"]["path"] == "manifests/examples/upskill-stack"
    wave = lambda app: int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])  # noqa: E731
    assert wave(operator) < wave(stack), "the operator (and its CRDs) before the example resources"
    root = Path(ROOT / "manifests/argocd/root-application.yaml").read_text(encoding="utf-8")
    assert "path: manifests/argocd" in root


def test_ignore_differences_cover_what_the_operator_writes() -> None:
    stack = _apps()["upskill-stack"]
    assert "RespectIgnoreDifferences=true" in stack["spec"]["syncPolicy"]["syncOptions"]
    rules = {rule["kind"]: rule for rule in stack["spec"]["ignoreDifferences"]}
    assert set(rules) == {info.kind for info in KINDS}
    live = {
        "metadata": {
            "annotations": {
                "upskill.io/reconcile": "{}",
                "upskill.io/last-handled-configuration": "{}",
                "team.example.com/owner": "learning",
            },
            "finalizers": ["upskill.io/finalizer"],
        },
        "spec": {"a": 1},
        "status": {"phase": "Ready"},
    }
    for kind, rule in rules.items():
        assert rule["group"] == "upskill.io"
        assert {"/status", "/metadata/finalizers"} <= set(rule["jsonPointers"]), kind
        for expression in rule["jqPathExpressions"]:
            # Argo CD deletes what each expression selects: del(<expression>).
            normalised = jq.compile(f"del({expression})").input_value(copy.deepcopy(live)).first()
            assert normalised["metadata"]["annotations"] == {"team.example.com/owner": "learning"}
            assert normalised["spec"] == live["spec"]
            no_annotations = jq.compile(f"del({expression})").input_value({"metadata": {}}).first()
            assert no_annotations == {"metadata": {}}
