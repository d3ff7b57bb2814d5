"""Run the Node client checks of tests/clients with exactly the delivered values as their environment."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from upskill_sandbox.kube import KubeServer

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
INSTALLED = CLIENTS / "node_modules" / ".installed"


def node_skip_reason() -> str | None:
    """Why the Node checks cannot run here, or None."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed: the real-client checks need node and npm"
    if not INSTALLED.exists():
        return f"{CLIENTS}/node_modules is missing: run `make node-clients` (npm ci)"
    return None


def require_node() -> None:
    reason = node_skip_reason()
    if reason:
        pytest.skip(reason)


def secret_data(kube: KubeServer, namespace: str, name: str) -> dict[str, str]:
    """A Kubernetes Secret's keys, decoded, as ``envFrom`` would give them to a pod."""
    found = kube.get("v1", "secrets", namespace, name)
    assert found is not None, f"Secret {namespace}/{name} was not delivered"
    return {k: base64.b64decode(v).decode() for k, v in (found.get("data") or {}).items()}


def configmap_data(kube: KubeServer, namespace: str, name: str) -> dict[str, str]:
    found = kube.get("v1", "configmaps", namespace, name)
    assert found is not None, f"ConfigMap {namespace}/{name} was not delivered"
    return dict(found.get("data") or {})


def run_node(script: str, env: dict[str, str], timeout: float = 120.0) -> dict[str, Any]:
    """Run tests/clients/<script> with only ``env`` (plus PATH/HOME); return its JSON result line.

    Fails with the step and the error the script reported (scripts never print secret values).
    """
    require_node()
    base = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    done = subprocess.run(
        ["node", str(CLIENTS / script)],
        env={**base, "NODE_NO_WARNINGS": "1", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=CLIENTS,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    failure = (
        f"{script} failed (exit {done.returncode}) at step {result.get('step')!r}: {result.get('error')!r}; "
        f"idle clients' errors: {result.get('idleErrors')!r}; "
        f"env keys given: {sorted(env)}; stderr tail: {done.stderr[-800:]!r}"
    )
    assert done.returncode == 0, failure
    assert result.get("ok"), failure
    return result


def wait_stack_ready(kube: Any, docs: list[dict[str, Any]], namespace: str, timeout: float = 240) -> None:
    """Until every upskill object of ``docs`` is Ready in ``namespace`` (the example stack, applied)."""
    from upskill_sandbox.stack import _plural

    from e2e.conftest import API, is_ready, wait_for

    ours = [d for d in docs if _plural(d["kind"])]

    def not_ready() -> list[str]:
        return [
            f"{d['kind']}/{d['metadata']['name']}"
            for d in ours
            if not is_ready(kube.get(API, str(_plural(d["kind"])), namespace, d["metadata"]["name"]))
        ]

    wait_for(lambda: not not_ready() or None, timeout, "every object of the example stack Ready")
