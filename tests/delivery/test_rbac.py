"""The ClusterRole grants exactly what the code and kopf use: nothing missing, nothing unused."""

from __future__ import annotations

from pathlib import Path

from delivery.kustomize import build, one
from delivery.rbac_usage import KOPF_NEEDS, Use, expand, needed, scan


def _granted(folder: str = "manifests/base") -> set[tuple[str, str, str]]:
    role = one(build(folder), "ClusterRole", "upskill-operator")
    return expand(role["rules"])


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


def test_every_overlay_keeps_the_same_role() -> None:
    base = _granted()
    for folder in ("manifests/overlays/dev", "manifests/overlays/prod"):
        assert _granted(folder) == base, folder


def test_no_wildcards_and_no_peering() -> None:
    for group, resource, verb in _granted():
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
