"""The developer ClusterRole (manifests/rbac/developer) grants exactly what ``connect`` and ``status`` call.

Derived from the code the way the operator's RBAC is (rbac_usage.scan over DEVELOPER_MODULES), so a new
client call there fails here until the role has it, and a grant nothing uses fails too.
"""

from __future__ import annotations

from delivery.kustomize import build, one
from delivery.rbac_usage import DEVELOPER_MODULES, expand, scan


def test_the_developer_role_grants_exactly_what_connect_and_status_call() -> None:
    used, problems = scan(developer=True)
    assert not problems, problems
    assert ("", "pods/portforward", "get") in used, "the scan sees the port-forward call"
    granted = expand(one(build("manifests/rbac/developer"), "ClusterRole", "upskill-developer")["rules"])
    missing = sorted(set(used) - granted)
    unused = sorted(granted - set(used))
    assert not missing, "connect calls what the developer role refuses: " + ", ".join(
        f"{t} ({used[t][0]})" for t in missing
    )
    assert not unused, f"the developer role grants what neither command calls: {unused}"


def test_the_developer_role_is_read_only_on_our_kinds_and_has_no_wildcards() -> None:
    granted = expand(one(build("manifests/rbac/developer"), "ClusterRole", "upskill-developer")["rules"])
    for group, resource, verb in granted:
        assert "*" not in (group, resource, verb)
        if group == "upskill.io":
            assert verb in ("get", "list"), (resource, verb)
        if resource in ("secrets", "configmaps"):
            assert verb == "get", "no list: only the Secrets and ConfigMaps the resources name"


def test_the_operator_role_does_not_carry_the_developer_calls() -> None:
    used, _ = scan()
    assert not [t for t in used if t[1].startswith("pods")], "pods are connect's, not the operator's"
    assert not [w for where in used.values() for w in where if w.startswith(DEVELOPER_MODULES)]
