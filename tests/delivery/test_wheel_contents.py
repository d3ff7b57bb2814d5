"""The operator's wheel holds ``upskill_operator`` only: packaging leaves the test bed out, not .dockerignore.

The wheel is built from a copy of the source tree *with* ``operator/upskill_sandbox/`` in it (a wheel
built outside Docker sees it), so only pyproject.toml's package list can keep the bed out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from delivery.docker_context import ROOT

pytestmark = pytest.mark.slow

_JUNK = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, tree / name)
    shutil.copytree(ROOT / "operator", tree / "operator", ignore=_JUNK)
    assert (tree / "operator/upskill_sandbox/__init__.py").exists()
    dist = tree / "dist"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(dist), str(tree)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-3000:]
    return zipfile.ZipFile(next(dist.glob("upskill_operator-*.whl")))


def test_the_wheel_holds_the_operator_and_not_the_test_bed(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    tops = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {"upskill_operator"}, sorted(tops)
    assert "upskill_operator/cli.py" in names
    assert "upskill_operator/py.typed" in names
    assert not [name for name in names if "sandbox" in name.split("/")[0]]


def test_the_wheel_offers_only_the_operator_command(wheel: zipfile.ZipFile) -> None:
    points = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    text = wheel.read(points).decode()
    assert "upskill-operator = upskill_operator.cli:main" in text
    assert "sandbox" not in text
