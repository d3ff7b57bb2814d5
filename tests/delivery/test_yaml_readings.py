"""Every shipped YAML file reads the same in kubectl (YAML 1.1) as it is meant (YAML 1.2 core) and in Python.

``kubectl apply -f`` reads YAML 1.1 (:mod:`upskill_operator.generate.kubectl_yaml`): a bare ``N`` is ``false``.
Each file of crds/, manifests/, tests/data/ and every other YAML file here, and each YAML block of
the README and docs, is read three ways (kubectl, YAML 1.2 core, PyYAML's ``safe_load``); no scalar
may change type or value between them. The CRDs must be exactly what the generator builds. Where
kubectl is installed, its own reading (``kubectl annotate --local -o json``, no server needed) is
compared with ours, which keeps the reader honest.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from delivery.kustomize import KUBECTL, ROOT
from upskill_operator.generate import crds, kubectl_yaml
from upskill_operator.models import KINDS


def _yaml_files() -> list[Path]:
    skipped = {".git", ".venv", "node_modules", "__pycache__"}
    found = [p for p in ROOT.rglob("*.y*ml") if not skipped & set(p.relative_to(ROOT).parts)]
    return sorted(p for p in [*found, *ROOT.rglob("Kustomization")] if p.suffix in (".yaml", ".yml", ""))


def _markdown_blocks() -> Iterator[tuple[str, str]]:
    pages = sorted(p for p in ROOT.rglob("*.md") if not {".git", ".venv"} & set(p.relative_to(ROOT).parts))
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"^( *)```ya?ml\n(.*?)^\1```", text, re.DOTALL | re.MULTILINE):
            line = text.count("\n", 0, match.start()) + 1
            yield f"{page.relative_to(ROOT)}:{line}", textwrap.dedent(match.group(2))


TEXTS = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in _yaml_files()]
TEXTS += list(_markdown_blocks())


def differences(read: Any, meant: Any, path: str = "") -> Iterator[str]:
    """Every place where two readings differ in type or value (``True`` and ``1`` differ)."""
    if type(read) is not type(meant):
        yield f"{path or '.'}: {read!r} ({type(read).__name__}) where {meant!r} ({type(meant).__name__}) is meant"
    elif isinstance(read, dict):
        for key in sorted(read.keys() | meant.keys(), key=str):
            if key not in read or key not in meant:
                yield f"{path}.{key}: only in the {'intended' if key in meant else 'other'} reading"
            else:
                yield from differences(read[key], meant[key], f"{path}.{key}")
    elif isinstance(read, list) and len(read) != len(meant):
        yield f"{path}: {len(read)} items where {len(meant)} are meant"
    elif isinstance(read, list):
        for index, (one, other) in enumerate(zip(read, meant, strict=True)):
            yield from differences(one, other, f"{path}[{index}]")
    elif read != meant:
        yield f"{path or '.'}: {read!r} where {meant!r} is meant"


def test_the_corpus_of_yaml_is_complete() -> None:
    names = {name.split(":")[0] for name, _ in TEXTS}
    assert {
        "README.md",
        "crds/upskill.io_upskilltables.yaml",
        "tests/data/valid/upskilltable-notifications.yaml",
    } <= names
    assert any(name.startswith("manifests/examples/") for name in names)
    assert any(name.startswith("docs/") for name in names)


@pytest.mark.parametrize(("name", "text"), TEXTS, ids=[name for name, _ in TEXTS])
def test_kubectl_and_python_read_what_is_meant(name: str, text: str) -> None:
    meant = [kubectl_yaml.to_wire(doc) for doc in kubectl_yaml.intended_all(text)]
    python = [kubectl_yaml.to_wire(doc) for doc in yaml.safe_load_all(text) if doc is not None]
    problems = [f"kubectl -f reads {line}" for line in differences(kubectl_yaml.load_all(text), meant)]
    problems += [f"PyYAML reads {line}" for line in differences(python, meant)]
    assert problems == [], f"{name}: quote these scalars:\n" + "\n".join(problems)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.kind)
def test_kubectl_reads_each_crd_file_as_the_generator_built_it(kind: Any) -> None:
    text = (ROOT / "crds" / f"upskill.io_{kind.plural}.yaml").read_text(encoding="utf-8")
    assert list(differences(kubectl_yaml.load(text), kubectl_yaml.to_wire(crds.build(kind)))) == []


PROBE = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: probe}
data:
  words: [y, Y, yes, n, N, no, on, off, true, "N", yEs, ~, null, nULL]
  numbers: [1e3, 1.5e-3, .5, 5., -1, 012, 019, 0x1F, 0o17, 0b101, 1_000, 4.0, 0.1, 1e21, 9223372036854775808]
  strings: [12:30, 2001-12-14, 2001-12-14 21:59:43.10 -5, 1e400, _1, 0o8, "<<"]
  keys: {y: 1, N: 2, 1: 3, 1.5: 4, 0x10: 5, 1e6: 6, 3.14159265: 7}
"""


def _kubectl_reading(paths: list[Path]) -> list[Any]:
    """What kubectl itself sends for these files: ``annotate --local`` decodes them and prints JSON offline."""
    assert KUBECTL is not None
    args = [KUBECTL, "annotate", "--local", "-o", "json", *(f"-f={path}" for path in paths), "upskill.io/probe=x"]
    result = subprocess.run(
        args, capture_output=True, text=True, check=False, timeout=60, env={**os.environ, "KUBECONFIG": os.devnull}
    )
    assert result.returncode == 0, result.stderr
    items, decoder, at = [], json.JSONDecoder(), 0
    while result.stdout[at:].strip():  # one JSON object after another
        item, at = decoder.raw_decode(result.stdout, len(result.stdout) - len(result.stdout[at:].lstrip()))
        items.append(item)
    for item in items:
        annotations = item["metadata"]["annotations"]
        del annotations["upskill.io/probe"]
        if not annotations:
            del item["metadata"]["annotations"]
    return [kubectl_yaml.to_wire(item) for item in items]


def _objects(path: Path) -> list[Any]:
    docs = kubectl_yaml.load_all(path.read_text(encoding="utf-8"))
    return [doc for doc in docs if isinstance(doc, dict) and {"apiVersion", "kind", "metadata"} <= doc.keys()]


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_our_reading_is_kubectls_own(tmp_path: Path) -> None:
    probe = tmp_path / "probe.yaml"
    probe.write_text(PROBE, encoding="utf-8")
    files = [path for path in _yaml_files() if _objects(path) and path.name != "kustomization.yaml"]
    assert len(files) > 50
    ours = [obj for path in [probe, *files] for obj in _objects(path)]
    assert list(differences(ours, _kubectl_reading([probe, *files]))) == []
