"""Build the kustomize folders of manifests/ with the real ``kubectl kustomize``.

Every folder holding a kustomization file is found at test time, so new overlays are
tested without being listed. Builds are cached per test session (they are pure
functions of the files). Tests using them skip when kubectl is not installed.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from upskill_operator.generate import kubectl_yaml

__all__ = ["KUBECTL", "KUSTOMIZATION_FILES", "ROOT", "build", "find", "folders", "one"]

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl")
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
"""The names kustomize reads; ``Kustomization`` (no extension) is skipped by ``kubectl apply -f <folder>``."""


def folders() -> list[str]:
    """Every kustomization under manifests/ and crds/, as repository-relative paths."""
    found = sorted({p.parent for name in KUSTOMIZATION_FILES for p in (ROOT / "manifests").rglob(name)})
    return [str(p.relative_to(ROOT)) for p in [ROOT / "crds", *found]]


@functools.cache
def _build(folder: str) -> tuple[dict[str, Any], ...]:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed: `kubectl kustomize` cannot build the manifests")
    result = subprocess.run(
        [KUBECTL, "kustomize", str(ROOT / folder)], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, f"kubectl kustomize {folder} failed:\n{result.stderr}"
    return tuple(doc for doc in kubectl_yaml.load_all(result.stdout) if doc)


def build(folder: str) -> list[dict[str, Any]]:
    """The objects ``kubectl kustomize <folder>`` renders (a fresh list; the cached objects are shared)."""
    return list(_build(folder))


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    matches = find(objects, kind, name)
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
    return matches[0]
