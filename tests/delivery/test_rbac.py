"""RBAC grants exactly what the code and kopf use: nothing missing, nothing unused, in either mode.

Cluster-wide (manifests/base, the prod overlay): one ClusterRole. Namespaced (the component
manifests/rbac/namespaced, used by the dev overlay): a Role in each namespace of UPSKILL_NAMESPACES
and nowhere else, plus a ClusterRole holding only the cluster-scoped reads kopf makes with
--namespace (namespaces and CRDs); no cluster-wide grant on anything namespaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from delivery.kustomize import build, find, one
from delivery.rbac_usage import KOPF_NEEDS, Use, expand, needed, scan

CLUSTER_SCOPED = frozenset(t for t in KOPF_NEEDS if t[1] in ("namespaces", "customresourcedefinitions"))
"""What kopf reads cluster-wide even with --namespace: it notices namespaces and CRDs come and go."""
OVERLAYS = ("manifests/overlays/dev", "manifests/overlays/prod")


def _granted(folder: str = "manifests/base") -> set[tuple[str, str, str]]:
    role = one(build(folder), "ClusterRole", "upskill-operator")
    return expand(role["rules"])


def _wanted() -> set[tuple[str, str, str]]:
    used, problems = scan()
    assert not problems, problems
    return set(used) | KOPF_NEEDS


def _watched(objects: tuple[dict[str, Any], ...]) -> list[str]:
    container = one(objects, "Deployment", "upskill-operator")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value", "") for e in container.get("env", [])}
    return [n.strip() for n in env.get("UPSKILL_NAMESPACES", "").split(",") if n.strip()]


def _bound_to_the_operator(binding: dict[str, Any], objects: tuple[dict[str, Any], ...]) -> None:
    account = one(objects, "ServiceAccount", "upskill-operator")["metadata"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    ]


def test_the_cluster_role_grants_exactly_what_is_used() -> None:
    used, problems = scan()
    assert not problems, problems
    wanted = set(used) | KOPF_NEEDS
    granted = _granted()
    missing = sorted(wanted - granted)
    unused = sorted(granted - wanted)
    assert not missing, "the code calls what RBAC refuses: " + ", ".join(
        f"{t} ({used.get(t, ['kopf'])[0]})" for t in missing
    )
    assert not unused, f"RBAC grants what nothing uses: {unused}"


@pytest.mark.parametrize("folder", ["manifests/base", *OVERLAYS])
def test_each_build_is_cluster_wide_or_namespaced_and_exact(folder: str) -> None:
    objects = build(folder)
    watched = _watched(objects)
    cluster_roles = {r["metadata"]["name"]: r for r in find(objects, "ClusterRole")}
    roles = find(objects, "Role")
    if not watched:
        assert set(cluster_roles) == {"upskill-operator"}, folder
        assert _granted(folder) == _wanted(), folder
        assert not roles, f"{folder}: a cluster-wide operator needs no Roles"
        return
    assert set(cluster_roles) == {"upskill-operator-kopf"}, f"{folder}: watching {watched}, no cluster-wide role"
    assert expand(cluster_roles["upskill-operator-kopf"]["rules"]) == CLUSTER_SCOPED
    _bound_to_the_operator(one(objects, "ClusterRoleBinding", "upskill-operator-kopf"), objects)
    assert sorted(r["metadata"]["namespace"] for r in roles) == sorted(watched), f"{folder}: a Role per namespace"
    for role in roles:
        assert expand(role["rules"]) == _wanted() - CLUSTER_SCOPED, role["metadata"]["namespace"]
    bindings = find(objects, "RoleBinding")
    assert sorted(b["metadata"]["namespace"] for b in bindings) == sorted(watched)
    for binding in bindings:
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": "upskill-operator",
        }
        _bound_to_the_operator(binding, objects)


def test_both_modes_are_shipped() -> None:
    modes = {bool(_watched(build(folder))) for folder in OVERLAYS}
    assert modes == {True, False}, "one overlay cluster-wide, one namespaced"


def test_no_wildcards_and_no_peering() -> None:
    namespaced = build("manifests/overlays/dev")
    rules = [r for role in [*find(namespaced, "Role"), *find(namespaced, "ClusterRole")] for r in role["rules"]]
    for group, resource, verb in _granted() | expand(rules):
        assert "*" not in (group, resource, verb)
        assert "kopfpeering" not in resource, "standalone: no peering objects"
        assert verb != "escalate"
        assert verb != "bind"
        assert verb != "impersonate"


def test_the_scan_maps_client_methods_to_rbac_rules(tmp_path: Path) -> None:
    assert needed(Use("x", "CoreV1Api", "patch_namespaced_config_map")) == {("", "configmaps", "patch")}
    assert needed(Use("x", "AppsV1Api", "read_namespaced_deployment")) == {("apps", "deployments", "get")}
    assert needed(Use("x", "CoreV1Api", "list_namespaced_secret"), watch=True) == {
        ("", "secrets", "list"),
        ("", "secrets", "watch"),
    }
    assert ("upskill.io", "upskilltables/status", "patch") in needed(
        Use("x", "CustomObjectsApi", "patch_namespaced_custom_object_status")
    )
    module = tmp_path / "kube" / "extra.py"
    module.parent.mkdir()
    module.write_text(
        "def f(kube):\n"
        "    kube.core.delete_namespaced_persistent_volume_claim('a', 'b')\n"
        "    kube.apps.replace_namespaced_deployment('a', 'b', {})\n"
        "    kube.api.call_api('/api/v1/pods', 'GET')\n"
    )
    used, problems = scan(tmp_path)
    assert set(used) == {("", "persistentvolumeclaims", "delete"), ("apps", "deployments", "update")}
    assert problems
    assert "call_api" in problems[0]
