"""``upskill-operator status``'s errors, each one line and exit code 1 (2 for usage), on the Kubernetes emulator.

A cluster with the CRDs and the namespace ``upskill``; no operator is needed to be refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from upskill_operator.cli import main
from upskill_operator.generate import crds
from upskill_sandbox.kube import KubeServer

NAMESPACE = "upskill"
OTHER = "status-b"


@dataclass
class Light:
    kube: KubeServer
    kubeconfig: Path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Light]:
    with KubeServer() as kube:
        for text in crds.render_all().values():
            kube.apply_yaml(text)
        for namespace in (NAMESPACE, OTHER):
            kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        yield Light(kube, kube.write_kubeconfig(tmp_path_factory.mktemp("status-errors") / "kubeconfig"))


@pytest.fixture
def bed(cluster: Light, monkeypatch: pytest.MonkeyPatch) -> Light:
    """The cluster, with only KUBECONFIG set."""
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    return cluster


def status(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["status", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if code:
        assert len(captured.err.splitlines()) == 1, captured.err
    return code, captured.out, captured.err


def test_a_missing_namespace(bed: Light, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = status(capsys, "-n", "no-such-ns")
    assert (code, out) == (1, "")
    assert err == 'error: namespace "no-such-ns" not found (context "upskill-sandbox")\n'


def test_an_unknown_context(bed: Light, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = status(capsys, "--context", "prod-eu")
    assert code == 1
    assert err == f'error: context "prod-eu" not found in kubeconfig {bed.kubeconfig} (contexts: upskill-sandbox)\n'


def test_a_context_from_a_second_kubeconfig_in_the_list(
    bed: Light, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KUBECONFIG as kubectl reads it: a list; --context picks one, its namespace is the default."""
    loaded = yaml.safe_load(bed.kubeconfig.read_text())
    loaded["contexts"][0]["name"] = loaded["current-context"] = "dev-b"
    loaded["contexts"][0]["context"]["namespace"] = OTHER
    second = tmp_path / "second"
    second.write_text(yaml.safe_dump(loaded))
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(bed.kubeconfig), str(second)]))
    code, out, _ = status(capsys, "--context", "dev-b")
    assert code == 0
    assert out.startswith(f"Namespace {OTHER} (context dev-b)"), out


def test_a_403_says_which_verb_and_resource(bed: Light, capsys: pytest.CaptureFixture[str]) -> None:
    refused = (
        'upskilltables.upskill.io is forbidden: User "dev" cannot list resource "upskilltables" in API group '
        '"upskill.io" in the namespace "upskill"'
    )
    fault = bed.kube.inject_fault("GET", r"/namespaces/upskill/upskilltables$", status=403, message=refused)
    try:
        code, out, err = status(capsys, "-n", NAMESPACE)
    finally:
        bed.kube.clear_faults()
    assert fault.hits == 1
    assert (code, out) == (1, "")
    assert err == (
        'error: forbidden: you may not list upskilltables.upskill.io in namespace "upskill"; RBAC must grant verb '
        '\'list\' on resource "upskilltables" in API group "upskill.io" (see docs/dev.md)\n'
    )


def test_an_unreachable_cluster(
    bed: Light, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with KubeServer() as gone:
        dead = gone.write_kubeconfig(tmp_path / "dead")
        url = gone.url
    monkeypatch.setenv("KUBECONFIG", str(dead))
    code, out, err = status(capsys)
    assert (code, out) == (1, "")
    assert err.startswith(f'error: cannot reach the Kubernetes API at {url} (context "upskill-sandbox"): '), err
    assert len(err.splitlines()) == 1


def test_crds_not_installed(
    bed: Light, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with KubeServer() as bare:
        monkeypatch.setenv("KUBECONFIG", str(bare.write_kubeconfig(tmp_path / "bare")))
        code, out, err = status(capsys)
    assert (code, out) == (1, "")
    assert err == (
        "error: the UpskillDatabase CRD (upskilldatabases.upskill.io) is not installed on this cluster "
        '(context "upskill-sandbox"): kubectl apply --server-side -f crds/\n'
    )


@pytest.mark.parametrize("args", [["-n", "a", "-A"], ["pod/web"], ["-o", "yaml"]])
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["status", *args])
    assert exited.value.code == 2
