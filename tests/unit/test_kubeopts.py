"""kubectl's conventions for the developer commands: which context and namespace, and the one-line reasons."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from upskill_operator.commands.kubeopts import KubeError, Resource, add_kube_options, api_call, open_cluster


def kubeconfig(path: Path, current: str | None = "dev", **namespaces: str | None) -> Path:
    contexts = [
        {"name": name, "context": {"cluster": name, "user": name, **({"namespace": ns} if ns else {})}}
        for name, ns in namespaces.items()
    ]
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": {"server": f"https://{n}.example:6443"}} for n in namespaces],
        "users": [{"name": n, "user": {"token": "t"}} for n in namespaces],
        "contexts": contexts,
    }
    if current:
        config["current-context"] = current
    path.write_text(yaml.safe_dump(config))
    return path


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_kube_options(parser, all_namespaces=True)
    return parser.parse_args(argv)


@pytest.fixture
def two(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = kubeconfig(tmp_path / "config", dev="team-a", prod=None)
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


def test_the_current_context_and_its_namespace_by_default(two: Path) -> None:
    cluster = open_cluster(parse())
    assert (cluster.context, cluster.namespace, cluster.server) == ("dev", "team-a", "https://dev.example:6443")


def test_context_and_namespace_options_win(two: Path) -> None:
    assert open_cluster(parse("--context", "prod")).namespace == "default"
    cluster = open_cluster(parse("--context", "prod", "-n", "web"))
    assert (cluster.context, cluster.namespace, cluster.server) == ("prod", "web", "https://prod.example:6443")


def test_a_kubeconfig_list_as_kubectl_reads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = kubeconfig(tmp_path / "a", dev="team-a")
    second = kubeconfig(tmp_path / "b", current=None, stage="qa")
    monkeypatch.setenv("KUBECONFIG", f"{first}:{tmp_path / 'missing'}:{second}")
    cluster = open_cluster(parse("--context", "stage"))
    assert (cluster.context, cluster.namespace) == ("stage", "qa")


def test_an_unknown_context_lists_the_known_ones(two: Path) -> None:
    with pytest.raises(KubeError) as refused:
        open_cluster(parse("--context", "staging"))
    assert str(refused.value) == f'context "staging" not found in kubeconfig {two} (contexts: dev, prod)'


def test_no_kubeconfig_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nothing"))
    with pytest.raises(KubeError, match=r"no kubeconfig found \(KUBECONFIG=.*nothing\): set KUBECONFIG"):
        open_cluster(parse())
    with pytest.raises(KubeError, match=r"kubeconfig .*absent does not exist"):
        open_cluster(parse("--kubeconfig", str(tmp_path / "absent")))


def test_no_current_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "c", current=None, dev=None)))
    with pytest.raises(KubeError, match=r"no current context: pass --context \(dev\)"):
        open_cluster(parse())


def refused(status: int, reason: str) -> Any:
    def call() -> None:
        raise ApiException(status=status, reason=reason)

    return call


@pytest.mark.parametrize(
    ("status", "namespace", "message"),
    [
        (
            403,
            "web",
            'forbidden: you may not list upskillsecrets.upskill.io in namespace "web"; RBAC must grant verb '
            '\'list\' on resource "upskillsecrets" in API group "upskill.io" (see docs/dev.md)',
        ),
        (
            403,
            None,
            "forbidden: you may not list upskillsecrets.upskill.io across all namespaces; RBAC must grant verb "
            '\'list\' on resource "upskillsecrets" in API group "upskill.io" (see docs/dev.md)',
        ),
        (401, "web", 'the cluster refused the credentials of context "dev" (401 Unauthorized)'),
        (500, "web", 'the Kubernetes API answered 500 Boom to list upskillsecrets.upskill.io in namespace "web"'),
    ],
)
def test_refusals_are_one_line(two: Path, status: int, namespace: str | None, message: str) -> None:
    cluster = open_cluster(parse())
    with pytest.raises(KubeError) as found:
        api_call(cluster, "list", Resource("upskillsecrets", "upskill.io"), namespace, refused(status, "Boom"))
    assert (str(found.value), found.value.status) == (message, status)


def test_a_core_resource_names_no_group(two: Path) -> None:
    cluster = open_cluster(parse())
    with pytest.raises(KubeError) as found:
        api_call(cluster, "create", Resource("pods/portforward"), "web", refused(403, "Forbidden"))
    assert str(found.value).endswith("RBAC must grant verb 'create' on resource \"pods/portforward\" (see docs/dev.md)")


def test_not_found_is_the_callers_to_explain(two: Path) -> None:
    cluster = open_cluster(parse())
    with pytest.raises(ApiException):
        api_call(cluster, "get", Resource("namespaces"), None, refused(404, "Not Found"))


def test_an_unreachable_server(two: Path) -> None:
    cluster = open_cluster(parse())

    def call() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    with pytest.raises(KubeError) as found:
        api_call(cluster, "list", Resource("upskilltables", "upskill.io"), "web", call)
    assert str(found.value).startswith('cannot reach the Kubernetes API at https://dev.example:6443 (context "dev"): ')


def test_namespace_and_all_namespaces_exclude_each_other() -> None:
    with pytest.raises(SystemExit):
        parse("-n", "a", "-A")
