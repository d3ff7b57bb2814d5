"""The example stack, created and deleted by an operator whose AWS calls are authorised against exactly policy.json.

The bed (:mod:`upskill_sandbox.iam_enforcer`) resolves the operator's temporary credentials
to the role ``operator-upskill``, lists what AWS authorises for each request (tag on create,
PassRole, RDS's forward access sessions, KMS through services, the final snapshot) with the
condition keys read from the emulator, and refuses what the role's policy does not allow. The run
shows that every grant is used (or why the run cannot use it); the abuses of issue 14 are tried
with the same credentials in ``test_enforced_iam_abuses.py``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from upskill_operator.config import AwsSettings, Settings
from upskill_operator.kube.client import load_configuration
from upskill_operator.models import KINDS
from upskill_operator.models.common import API_GROUP, API_VERSION
from upskill_sandbox.dataplane import DataPlane
from upskill_sandbox.iam_enforcer import IamEnforcer
from upskill_sandbox.iam_principal import OperatorPrincipal, operator_principal
from upskill_sandbox.stack import find_manifests, load_manifests

from e2e.conftest import API, REGION, Bed, CallLog, emulators, is_ready

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

NAMESPACE = "enforced-iam"
"""A namespace of its own: moto's state is shared by every bed of the test session."""
POLICY = Path(__file__).resolve().parents[2] / "manifests" / "iam" / "policy.json"
PLURALS = {k.kind: k.plural for k in KINDS}
_DB_URL_ROTATION = (
    "a database URL's rotation (RDS rotates the master secret): not part of this run; the bed's RDS rotation "
    "is covered without enforcement by tests/e2e/test_master_rotation.py"
)
_RECOVERY = (
    "restores (spec.restore) and deleting on-demand snapshots are not in this run (it takes one, kept); "
    "tests/e2e/test_database_restore.py runs them without enforcement, test_iam_conditions.py checks the conditions"
)
EXPLAINED: dict[tuple[str, str], str] = {
    ("RdsCreateOwn", "rds:RestoreDBClusterFromSnapshot"): _RECOVERY,
    ("RdsCreateOwn", "rds:RestoreDBClusterToPointInTime"): _RECOVERY,
    ("RdsManageOwn", "rds:DeleteDBClusterSnapshot"): _RECOVERY + " (deletionPolicy Delete deletes them)",
    ("Ec2IngressRules", "ec2:AuthorizeSecurityGroupIngress"): "AWS authorises the security-group-rule resource "
    "only when the rule is tagged on creation; the operator tags no rules, so the bed authorises the group alone",
    ("RdsIamAuthenticationThroughProxies", "rds-db:connect"): "checked by RDS Proxy when a client logs in with "
    "an IAM token (presigned locally, no AWS request); the bed's proxies are PostgreSQL: see test_iam_conditions.py",
    ("RdsManageOwn", "rds:DeregisterDBProxyTargets"): "the bed authorises the target group (RdsProxyTargetGroups); "
    "AWS also names the proxy's cluster, which is ours and tagged",
    ("RdsProxyTargetGroups", "rds:DeregisterDBProxyTargets"): "called when a spec turns its proxy off; deleting "
    "a database deletes its proxy, which takes its targets with it",
    **{
        ("DynamoDBOwnTables", f"dynamodb:{action}"): "a restore or spec.backups entry (the example stack has none): "
        "tests/e2e/test_table_restore.py"
        for action in ("CreateBackup", "RestoreTableToPointInTime", "RestoreTableFromBackup")
    },
    **{
        ("DynamoDBOwnBackups", f"dynamodb:{action}"): "a restore from backup, or deletionPolicy Delete of a table with "
        "on-demand backups (the example stack has none): tests/e2e/test_table_restore.py"
        for action in ("DescribeBackup", "DeleteBackup", "RestoreTableFromBackup")
    },
    **{
        ("DynamoDBOwnTables", f"dynamodb:{action}"): "AWS authorises it along with a restore, which writes the new "
        "table's items as the caller (the example stack restores nothing)"
        for action in ("BatchWriteItem", "DeleteItem", "PutItem", "Scan", "UpdateItem")
    },
    ("DynamoDBOwnTables", "dynamodb:Query"): "made by `upskill-operator check` (one Query per table and index, "
    "tests/e2e/test_check_command.py), never by the operator",
    ("StsCallerIdentity", "sts:GetCallerIdentity"): "asked only for a KMS key given as an ARN (the stack names "
    "an alias); AWS authorises it for every principal",
    ("IamProxyRolesUnderBoundary", "iam:UpdateAssumeRolePolicy"): "repairs a proxy role's trust someone changed",
    ("RdsManageOwn", "rds:ModifyDBSubnetGroup"): "the stack never changes its subnets",
    ("RdsManageOwn", "rds:ModifyDBProxyEndpoint"): "the stack never changes a proxy endpoint's security groups",
    ("SecretsManagerManageOwn", "secretsmanager:CancelRotateSecret"): "turning off a Lambda rotation",
    ("SecretsManagerManageOwn", "secretsmanager:RotateSecret"): "rotation by a Lambda (rotation.lambdaArn)",
    ("SecretsManagerManageOwn", "secretsmanager:UpdateSecretVersionStage"): "an application user's rotation",
    ("SecretsManagerOurClustersMasterSecrets", "secretsmanager:DescribeSecret"): _DB_URL_ROTATION,
    ("SecretsManagerOurClustersMasterSecrets", "secretsmanager:RotateSecret"): _DB_URL_ROTATION,
    ("SecretsManagerRdsCreatesMasterSecrets", "secretsmanager:RotateSecret"): _DB_URL_ROTATION,
}
"""(Sid, action) grants a create-and-delete run of the example stack cannot use, with the reason."""


@dataclass
class Run:
    bed: Bed
    enforcer: IamEnforcer
    principal: OperatorPrincipal
    docs: list[dict[str, Any]]
    seconds_to_ready: float | None
    not_ready: list[str]
    not_deleted: list[str]
    denied_while_running: list[str]


def _stack() -> list[dict[str, Any]]:
    """The example stack, as shipped, in the bed's namespace."""
    docs = []
    for doc in load_manifests(find_manifests(None)):
        if doc["kind"] in PLURALS:
            doc = copy.deepcopy(doc)
            doc["metadata"]["namespace"] = NAMESPACE
            docs.append(doc)
    return docs


CHANGES: dict[str, dict[str, Any]] = {
    # Every kind: a tag added and one removed; deletion protection off and tables deleted with their
    # resource (so the deletion below deletes); the update paths of each kind.
    "UpskillTable": {"deletionProtection": False, "deletionPolicy": "Delete"},
    "UpskillDatabase": {"deletionProtection": False, "network": {"allowFrom": {"cidrs": ["10.1.0.0/16"]}}},
    "UpskillSecret": {"description": "rotated by the enforced bed"},
}
DATABASE_CHANGES: dict[str, dict[str, Any]] = {
    "auth-db": {
        "capacity": {"serverless": {"maxACU": 8}},
        "proxy": {"borrowTimeoutSeconds": 10, "idleClientTimeoutSeconds": 900},
    },
    # An on-demand snapshot: authorised on the cluster (ours) and on the new, owner-tagged snapshot.
    "course-db": {"capacity": {"provisioned": {"instanceClass": "db.r6g.large"}}, "snapshots": [{"name": "enforced"}]},
}


def _changed(doc: dict[str, Any]) -> dict[str, Any]:
    """A merge patch of ``doc`` exercising the update path of every AWS object it manages."""
    name = doc["metadata"]["name"]
    tags = {key: None for key in doc["spec"].get("tags", {})} | {"phase": "two"}
    spec = {**CHANGES[doc["kind"]], **DATABASE_CHANGES.get(name, {}), "tags": tags}
    metadata: dict[str, Any] = {"name": name, "namespace": NAMESPACE}
    if name == "better-auth-secret":  # a database URL's rotation would hit the bed's half-applied RDS rotation
        metadata["annotations"] = {"upskill.io/rotate": "enforced-bed"}  # (issue 14, outcome 5: helper "gone")
    return {"apiVersion": doc["apiVersion"], "kind": doc["kind"], "metadata": metadata, "spec": spec}


def _get(bed: Bed, doc: dict[str, Any]) -> dict[str, Any] | None:
    return bed.kube.get(API, PLURALS[doc["kind"]], NAMESPACE, doc["metadata"]["name"])


def _delete(bed: Bed, doc: dict[str, Any]) -> None:
    with kubernetes.client.ApiClient(load_configuration(bed.settings.kubeconfig)) as api:
        kubernetes.client.CustomObjectsApi(api).delete_namespaced_custom_object(
            API_GROUP, API_VERSION, NAMESPACE, PLURALS[doc["kind"]], doc["metadata"]["name"]
        )


def _waiting(bed: Bed, docs: list[dict[str, Any]], *, gone: bool) -> list[str]:
    out = []
    for doc in docs:
        obj = _get(bed, doc)
        if (obj is not None) if gone else not is_ready(obj):
            out.append(f"{doc['kind']} {doc['metadata']['name']}: {(obj or {}).get('status', {}).get('message')}")
    return out


def _conditions(bed: Bed, docs: list[dict[str, Any]]) -> list[str]:
    """What a failure shows beside the waiting messages: every unhealthy condition of the stack, and a missing
    MigrationsApplied."""
    out = []
    for doc in docs:
        conditions = ((_get(bed, doc) or {}).get("status") or {}).get("conditions") or []
        out += [
            f"{doc['kind']} {doc['metadata']['name']} {c.get('type')}={c.get('status')} {c.get('reason')}: "
            f"{c.get('message')}"
            for c in conditions
            if (c.get("status") == "True") == (c.get("type") in ("Terminal", "Recoverable"))  # the unhealthy ones
        ]
        if doc["spec"].get("migrations") and not any(c.get("type") == "MigrationsApplied" for c in conditions):
            out.append(f"{doc['kind']} {doc['metadata']['name']}: no MigrationsApplied condition")
    return out


def _until(bed: Bed, docs: list[dict[str, Any]], *, gone: bool, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while (pending := _waiting(bed, docs, gone=gone)) and time.monotonic() < deadline:
        time.sleep(0.25)
    return pending + (_conditions(bed, _stack()) if pending and not gone else [])


def _until_snapshot(bed: Bed, name: str, timeout: float) -> list[str]:
    """[] once the database's status lists its on-demand snapshot as available."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        obj = bed.kube.get(API, PLURALS["UpskillDatabase"], NAMESPACE, name) or {}
        if any(s.get("state") == "available" for s in obj.get("status", {}).get("snapshots") or []):
            return []
        time.sleep(0.25)
    return [
        f"UpskillDatabase {name}: no available snapshot in status.snapshots ({obj.get('status', {}).get('message')})"
    ]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    workdir = tmp_path_factory.mktemp("enforced")
    enforcer = IamEnforcer()
    with (
        emulators(REGION, enforcer) as (aws, kube),
        pytest.MonkeyPatch.context() as env,
        contextlib.ExitStack() as stack,
    ):
        principal = operator_principal(aws, REGION)
        keys = {principal.env["AWS_ACCESS_KEY_ID"]: principal.env["AWS_SECRET_ACCESS_KEY"]}  # its IAM auth tokens
        plane = stack.enter_context(DataPlane(workdir / "plane", signing_keys=keys))
        for key, value in principal.env.items():
            env.setenv(key, value)  # the operator's credential chain: the role's session, as IRSA gives it
        kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        settings = Settings(
            aws=AwsSettings(endpoint_url=aws.url, region=REGION, max_attempts=2),
            kubeconfig=str(kube.write_kubeconfig(workdir / "kubeconfig")),
            metrics_port=0,
            resync_seconds=600,
            kind_resync_seconds={},
            requeue_seconds=0.5,
            **plane.settings_overrides(),
            proxy_role_boundary_arn=principal.boundary_arn,
        )
        bed = Bed(aws=aws, kube=kube, settings=settings, calls=CallLog())
        docs = _stack()
        bed.start_operator()
        try:
            started = time.monotonic()
            for doc in docs:
                bed.apply(doc)
            not_ready = _until(bed, docs, gone=False, timeout=300)
            seconds = None if not_ready else time.monotonic() - started
            for doc in docs:
                bed.apply(_changed(doc))
            not_ready += _until(bed, docs, gone=False, timeout=120)
            not_ready += _until_snapshot(bed, "course-db", timeout=120)
            generated = next(d for d in docs if d["metadata"]["name"] == "better-auth-secret")
            _delete(bed, generated)  # recoverable, then restored by applying it again
            not_ready += _until(bed, [generated], gone=True, timeout=120)
            bed.apply(generated)
            not_ready += _until(bed, [generated], gone=False, timeout=120)
            denied = [f"{d.request.action} {d.request.resource} {dict(d.request.context)}" for d in enforcer.denied()]
            for doc in reversed(docs):
                _delete(bed, doc)
            not_deleted = _until(bed, docs, gone=True, timeout=300)
        finally:
            bed.stop_operator()
        yield Run(bed, enforcer, principal, docs, seconds, not_ready, not_deleted, denied)


def test_the_stack_gets_ready_and_is_deleted_with_nothing_denied(run: Run) -> None:
    assert not run.not_ready, run.not_ready
    assert run.denied_while_running == []
    assert not run.not_deleted, run.not_deleted
    assert [f"{d.request.action} {d.request.resource}" for d in run.enforcer.denied()] == []
    print(f"\nenforced stack Ready in {run.seconds_to_ready:.1f}s; {len(run.enforcer.log)} authorisations")


def test_every_grant_of_the_policy_is_used_or_explained(run: Run) -> None:
    granted = {(s["Sid"], a) for s in json.loads(POLICY.read_text())["Statement"] for a in s["Action"]}
    used = {(sid, d.request.action) for d in run.enforcer.log if d.decision.allowed for sid in d.decision.statements}
    assert used <= granted
    assert not used & set(EXPLAINED), f"used, so no longer to be explained: {sorted(used & set(EXPLAINED))}"
    assert set(EXPLAINED) <= granted, f"explained but not granted: {sorted(set(EXPLAINED) - granted)}"
    unused = sorted(granted - used - set(EXPLAINED))
    assert not unused, f"grants the run never used (narrow the policy or explain them): {unused}"


def test_every_call_was_made_as_the_operator_role(run: Run) -> None:
    account, role = run.principal.role_arn.split(":")[4], run.principal.role_arn.rpartition("/")[2]
    assert {d.principal for d in run.enforcer.log} == {f"arn:aws:sts::{account}:assumed-role/{role}/upskill-operator"}
