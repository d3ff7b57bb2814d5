"""The image's Python environment, rebuilt without Docker: a clean venv from requirements.lock.

Slow on first run (it installs ~40 wheels), so the venv is cached in .venv-image-test/
keyed by the lock's hash; our wheel is rebuilt from the *build context* (the files
.dockerignore lets through, as ``docker build`` would see them) on every run. It then
imports every runtime module, as the container's entrypoint would. Skipped, with the
reason, only when pip cannot reach the package registry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from delivery.docker_context import ROOT, copy_context
from delivery.lockfile import LOCK, parse_lock

pytestmark = pytest.mark.slow

CACHE = ROOT / ".venv-image-test"
_OFFLINE = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Max retries exceeded",
    "Connection refused",
    "ConnectTimeoutError",
    "ReadTimeoutError",
)
_IMPORT_ALL = """
import importlib, pkgutil, upskill_operator
names = [m.name for m in pkgutil.walk_packages(upskill_operator.__path__, "upskill_operator.")]
names = [name for name in names if not name.endswith(".__main__")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def _pip(python: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(python), "-m", "pip", *args], capture_output=True, text=True, check=False, cwd=cwd, env=env, timeout=900
    )


def _require(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode == 0:
        return
    output = result.stdout + result.stderr
    if any(marker in output for marker in _OFFLINE):
        pytest.skip(f"pip cannot reach the package registry ({what}): {output.strip().splitlines()[-1]}")
    pytest.fail(f"{what} failed:\n{output[-3000:]}")


@pytest.fixture(scope="module")
def image_venv() -> Path:
    """A venv holding exactly requirements.lock, as the Dockerfile's build stage installs it."""
    lock = LOCK.read_bytes()
    key = hashlib.sha256(lock + sys.version.encode()).hexdigest()[:16]
    venv = CACHE / key
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        if CACHE.exists():
            shutil.rmtree(CACHE)  # older locks' venvs
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        # Same flags as the Dockerfile, but with dependency resolution on: if the lock were incomplete,
        # pip would pull something unpinned, which the freeze comparison below catches.
        _require(_pip(python, "install", "--only-binary=:all:", "-r", str(LOCK)), "installing requirements.lock")
        (venv / ".complete").touch()
    return python


def _installed(python: Path) -> dict[str, str]:
    listed = json.loads(_pip(python, "list", "--format=json").stdout)
    skip = {"pip", "setuptools", "wheel", "upskill-operator"}
    return {item["name"].lower().replace("_", "-"): item["version"] for item in listed if item["name"] not in skip}


def test_the_lock_is_complete_and_consistent(image_venv: Path) -> None:
    pins = parse_lock(LOCK.read_text(encoding="utf-8"))
    assert _installed(image_venv) == pins, "installing the lock pulled in unpinned packages: run `make lock`"


def test_the_entrypoint_imports_in_a_clean_venv_from_the_build_context(image_venv: Path, tmp_path: Path) -> None:
    context = tmp_path / "context"
    copy_context(context)
    # Our wheel, built from exactly the files docker build would see, installed like the Dockerfile does.
    _require(_pip(image_venv, "wheel", "--no-deps", "--wheel-dir", str(tmp_path / "dist"), str(context)), "wheel")
    wheel = next((tmp_path / "dist").glob("upskill_operator-*.whl"))
    _require(_pip(image_venv, "install", "--no-deps", "--force-reinstall", str(wheel)), "installing the wheel")
    _require(_pip(image_venv, "check"), "pip check")

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KUBECONFIG")}
    env.update(PYTHONDONTWRITEBYTECODE="1", HOME=str(tmp_path / "home"))
    bindir = image_venv.parent
    run = subprocess.run(
        [str(bindir / "upskill-operator"), "run", "--help"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert "--liveness" in run.stdout
    imported = subprocess.run(
        [str(image_venv), "-c", _IMPORT_ALL], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert imported.returncode == 0, f"a runtime module needs something the image lacks:\n{imported.stderr[-3000:]}"
    assert int(imported.stdout.strip()) > 20
    sandbox = subprocess.run(
        [str(image_venv), "-c", "import upskill_sandbox"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert sandbox.returncode != 0, "the test bed must not ship in the image"
