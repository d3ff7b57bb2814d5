"""The IRSA policy of the operator, derived from the façades: exactly the AWS actions the code calls.

Every :class:`~upskill_operator.aws.base.Facade` subclass declares ``iam_prefix`` and
``operations``; :func:`called_actions` imports every module of this package and collects them,
so a new façade or operation is in the policy the moment it exists. Three small tables say
what the code cannot:

- :data:`ACTION_NAMES`: API operations whose IAM action has another name.
- :data:`IMPLIED`: actions AWS also authorises on the caller when an operation runs (tag on
  create, passing the proxy role, KMS use through a service, the final snapshot of a delete).
- :data:`RULES`: where each action may act. Names the operator derives carry the name prefix
  (``<prefix>-*``: tables, the proxy role); objects with AWS-generated identifiers are scoped by
  the ownership tag (``aws:RequestTag/upskill.io/owner`` on create, ``aws:ResourceTag/...``
  afterwards); reads that AWS cannot scope, or that adoption needs, use ``*``.

An action no rule places makes :func:`document` raise, so a new operation cannot ship with an
unscoped grant. Regenerate with ``upskill-operator iam-policy --write manifests/iam/policy.json``
(or ``python -m upskill_operator.generate.iam_policy``); ``--check`` prints missing and extra actions.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib
import json
import pkgutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upskill_operator.aws.base import Facade
from upskill_operator.generate import boundary
from upskill_operator.models.tags import OWNER_TAG

__all__ = [
    "ACTION_NAMES",
    "IMPLIED",
    "OWNER_TAG",
    "RULES",
    "PolicyError",
    "Rule",
    "called_actions",
    "diff",
    "document",
    "facades",
    "granted",
    "main",
    "render",
    "required_actions",
    "run",
]

ACTION_NAMES: Mapping[str, str] = {
    # API operation (prefix:Operation) -> IAM action, where they differ. None of our operations
    # differ today (DynamoDB, RDS, EC2, IAM, KMS and Secrets Manager name actions after operations;
    # IAM database authentication is declared directly as rds-db:connect by RdsAuth). Add a line
    # here when a façade calls, e.g., s3:ListObjectsV2 (s3:ListBucket) or lambda:Invoke
    # (lambda:InvokeFunction).
}
_VIA_SERVICES = ["dynamodb.*.amazonaws.com", "rds.*.amazonaws.com", "secretsmanager.*.amazonaws.com"]
_RESTORE_WRITES = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
)
IMPLIED: Mapping[str, tuple[str, ...]] = {
    # Tag on create: AWS authorises the tagging action too when a create carries tags.
    "dynamodb:CreateTable": ("dynamodb:TagResource", "kms:CreateGrant", "kms:DescribeKey"),
    "dynamodb:UpdateTable": ("kms:CreateGrant", "kms:DescribeKey"),  # switching to a customer managed key
    # A restore writes the new table's items as the caller (AWS's restore permissions), with the override key.
    "dynamodb:RestoreTableToPointInTime": _RESTORE_WRITES,
    "dynamodb:RestoreTableFromBackup": _RESTORE_WRITES,
    "ec2:CreateSecurityGroup": ("ec2:CreateTags",),
    "iam:CreateRole": ("iam:TagRole",),
    "rds:CreateDBSubnetGroup": ("rds:AddTagsToResource",),
    "rds:CreateDBInstance": ("rds:AddTagsToResource",),
    "rds:CreateDBProxyEndpoint": ("rds:AddTagsToResource",),
    # The proxy assumes its role: creating or re-pointing the proxy passes it.
    "rds:CreateDBProxy": ("iam:PassRole", "rds:AddTagsToResource"),
    "rds:ModifyDBProxy": ("iam:PassRole",),
    # Storage encryption with a KMS key and the master user secret RDS creates in Secrets Manager.
    "rds:CreateDBCluster": (
        "rds:AddTagsToResource",
        "kms:CreateGrant",
        "kms:DescribeKey",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "secretsmanager:CreateSecret",
        "secretsmanager:TagResource",
    ),
    # A restore is a create: tags in the call, and the snapshot's or source's key used for the new storage.
    "rds:RestoreDBClusterFromSnapshot": ("rds:AddTagsToResource", "kms:CreateGrant", "kms:DescribeKey"),
    "rds:RestoreDBClusterToPointInTime": ("rds:AddTagsToResource", "kms:CreateGrant", "kms:DescribeKey"),
    "rds:ModifyDBCluster": ("secretsmanager:CreateSecret", "secretsmanager:RotateSecret", "secretsmanager:TagResource"),
    # deletionPolicy Snapshot: DeleteDBCluster takes a final snapshot.
    "rds:DeleteDBCluster": ("rds:CreateDBClusterSnapshot",),
    # A secret encrypted with a customer managed key: Secrets Manager uses the key as the caller.
    "secretsmanager:CreateSecret": ("kms:GenerateDataKey", "kms:Decrypt"),
    "secretsmanager:PutSecretValue": ("kms:GenerateDataKey", "kms:Decrypt"),
    "secretsmanager:GetSecretValue": ("kms:Decrypt",),
    # CloudWatch: PutMetricAlarm with Tags (on create) is also authorised as TagResource.
    "cloudwatch:PutMetricAlarm": ("cloudwatch:TagResource",),
}
IMPLIED_BEYOND_REFERENCE = frozenset(
    {
        # Pairs AWS's Service Authorization Reference does not list as dependent actions, but the
        # service guides require of the caller (the policy test checks every other pair against it).
        ("dynamodb:CreateTable", "dynamodb:TagResource"),  # DynamoDB: tagging on creation
        ("dynamodb:CreateTable", "kms:CreateGrant"),  # DynamoDB: customer managed keys
        ("dynamodb:CreateTable", "kms:DescribeKey"),
        ("dynamodb:UpdateTable", "kms:CreateGrant"),
        ("dynamodb:UpdateTable", "kms:DescribeKey"),
        ("iam:CreateRole", "iam:TagRole"),  # IAM: tagging on creation
        ("rds:RestoreDBClusterFromSnapshot", "kms:CreateGrant"),  # RDS: restoring encrypted data grants the key
        ("rds:RestoreDBClusterFromSnapshot", "kms:DescribeKey"),
        ("rds:RestoreDBClusterToPointInTime", "kms:CreateGrant"),
        ("rds:RestoreDBClusterToPointInTime", "kms:DescribeKey"),
        ("secretsmanager:CreateSecret", "kms:GenerateDataKey"),  # Secrets Manager: customer managed keys
        ("secretsmanager:CreateSecret", "kms:Decrypt"),
        ("secretsmanager:PutSecretValue", "kms:GenerateDataKey"),
        ("secretsmanager:PutSecretValue", "kms:Decrypt"),
        ("secretsmanager:GetSecretValue", "kms:Decrypt"),
        ("cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"),  # CloudWatch: tagging on creation
    }
)


@dataclass(frozen=True)
class Rule:
    """One policy statement: the required actions matching ``actions`` (fnmatch), on ``resources``."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()


def _owned(key: str = f"aws:ResourceTag/{OWNER_TAG}") -> dict[str, dict[str, str]]:
    return {"Null": {key: "false"}}


def _tagged_on_request() -> dict[str, dict[str, str]]:
    return {"Null": {f"aws:RequestTag/{OWNER_TAG}": "false"}}


_BOUNDARY_ARN = "arn:aws:iam::*:policy/" + boundary.BOUNDARY_NAME
_SECRETS_OWN_NAMES = "arn:aws:secretsmanager:*:*:secret:{prefix}/*"
_RDS_MASTER_SECRETS = "arn:aws:secretsmanager:*:*:secret:rds!*"
_OUR_CLUSTERS = "arn:aws:rds:*:*:cluster:{prefix}-*"
_ROLES = "arn:aws:iam::*:role/{prefix}-*"
_OUR_ALARMS = "arn:aws:cloudwatch:*:*:alarm:{prefix}-*"

RULES: tuple[Rule, ...] = (
    # DynamoDB: tables are named <prefix>-<namespace>-<name> (spec.tableName must keep the prefix).
    Rule(
        "DynamoDBOwnTables",
        ("dynamodb:*",),
        ("arn:aws:dynamodb:*:*:table/{prefix}-*",),
        exclude=("dynamodb:ListBackups", "dynamodb:DescribeBackup", "dynamodb:DeleteBackup"),
    ),
    # Backups of those tables (RestoreTableFromBackup needs the backup and the new table).
    Rule(
        "DynamoDBOwnBackups",
        ("dynamodb:DescribeBackup", "dynamodb:DeleteBackup", "dynamodb:RestoreTableFromBackup"),
        ("arn:aws:dynamodb:*:*:table/{prefix}-*/backup/*",),
    ),
    # ListBackups has no resource-level permission (Resource "*"); it names a lost table's backups.
    Rule("DynamoDBListBackups", ("dynamodb:ListBackups",), ("*",)),
    # KMS: resolve the aliases specs name; let the services use keys on the operator's behalf.
    Rule("KmsDescribeKeys", ("kms:DescribeKey",), ("*",)),
    # STS: the caller's own account, to refuse key ARNs of other accounts (needs no permission).
    Rule("StsCallerIdentity", ("sts:GetCallerIdentity",), ("*",)),
    Rule(
        "KmsGrantsForAwsServices",
        ("kms:CreateGrant",),
        ("*",),
        {"Bool": {"kms:GrantIsForAWSResource": "true"}, "StringLike": {"kms:ViaService": _VIA_SERVICES}},
    ),
    Rule(
        "KmsDataKeysThroughServices",
        ("kms:Decrypt", "kms:GenerateDataKey"),
        ("*",),
        {"StringLike": {"kms:ViaService": _VIA_SERVICES}},
    ),
    # EC2: read subnets and groups; create security groups only tagged as ours, then touch only those.
    Rule("Ec2Describe", ("ec2:Describe*",), ("*",)),
    Rule(
        "Ec2CreateOwnSecurityGroups",
        ("ec2:CreateSecurityGroup",),
        ("arn:aws:ec2:*:*:security-group/*",),
        _tagged_on_request(),
    ),
    Rule("Ec2CreateSecurityGroupsInVpcs", ("ec2:CreateSecurityGroup",), ("arn:aws:ec2:*:*:vpc/*",)),
    Rule(
        "Ec2TagOnCreate",
        ("ec2:CreateTags",),
        ("arn:aws:ec2:*:*:security-group/*",),
        {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}},
    ),
    Rule(
        "Ec2ManageOwnSecurityGroups",
        (
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:DeleteSecurityGroup",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ),
        ("arn:aws:ec2:*:*:security-group/*",),
        _owned(),
    ),
    Rule("Ec2IngressRules", ("ec2:AuthorizeSecurityGroupIngress",), ("arn:aws:ec2:*:*:security-group-rule/*",)),
    # IAM: the proxy roles, named <cluster>-proxy. Every write that gives a role permissions or
    # trust requires our permissions boundary on it, so no role the operator makes can do more
    # than the boundary (read our secrets); PassRole only to RDS.
    Rule("IamReadProxyRoles", ("iam:GetRole", "iam:GetRolePolicy"), (_ROLES,)),
    Rule(
        "IamProxyRolesUnderBoundary",
        ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole"),
        (_ROLES,),
        {"StringLike": {"iam:PermissionsBoundary": _BOUNDARY_ARN}},
    ),
    Rule("IamTagProxyRoles", ("iam:TagRole", "iam:UntagRole"), (_ROLES,)),
    Rule(
        "IamPassProxyRolesToRds",
        ("iam:PassRole",),
        (_ROLES,),
        {"StringEquals": {"iam:PassedToService": "rds.amazonaws.com"}},
    ),
    # RDS: identifiers may be chosen by the user (clusterIdentifier) or by AWS (proxies), so
    # everything but reads is scoped by the ownership tag.
    Rule("RdsDescribe", ("rds:Describe*", "rds:ListTagsForResource"), ("*",)),
    Rule(
        "RdsCreateOwn",
        (
            "rds:CreateDBCluster",
            "rds:RestoreDBClusterFromSnapshot",
            "rds:RestoreDBClusterToPointInTime",
            "rds:CreateDBInstance",
            "rds:CreateDBSubnetGroup",
            "rds:CreateDBProxy",
            "rds:CreateDBProxyEndpoint",
        ),
        ("*",),
        _tagged_on_request(),
    ),
    # Tags on an object without our tag: only when it is named under the prefix (tag on create, or
    # adoption of an untagged object of our naming scope), or a proxy (AWS-generated id) being created.
    Rule(
        "RdsTagOnCreateByName",
        ("rds:AddTagsToResource",),
        ("arn:aws:rds:*:*:cluster:{prefix}-*", "arn:aws:rds:*:*:db:{prefix}-*", "arn:aws:rds:*:*:subgrp:{prefix}-*"),
        _tagged_on_request(),
    ),
    Rule(
        "RdsTagNewProxies",
        ("rds:AddTagsToResource",),
        ("arn:aws:rds:*:*:db-proxy:*", "arn:aws:rds:*:*:db-proxy-endpoint:*"),
        {"Null": {f"aws:RequestTag/{OWNER_TAG}": "false", f"aws:ResourceTag/{OWNER_TAG}": "true"}},
    ),
    Rule(
        "RdsManageOwn",
        (
            "rds:Modify*",
            "rds:Delete*",
            "rds:AddTagsToResource",
            "rds:RemoveTagsFromResource",
            "rds:DeregisterDBProxyTargets",
            "rds:CreateDBClusterSnapshot",
        ),
        ("*",),
        _owned(),
        exclude=("rds:ModifyDBProxyTargetGroup",),  # target groups carry no tags: RdsProxyTargetGroups
    ),
    Rule(
        "RdsOnDemandSnapshots",
        ("rds:CreateDBClusterSnapshot", "rds:AddTagsToResource"),
        ("arn:aws:rds:*:*:cluster-snapshot:*",),
        _tagged_on_request(),
    ),
    Rule(
        "RdsFinalSnapshots",
        ("rds:DeleteDBCluster", "rds:CreateDBClusterSnapshot"),
        ("arn:aws:rds:*:*:cluster-snapshot:*-final-*",),
    ),
    Rule(
        "RdsProxyTargetGroups",
        ("rds:RegisterDBProxyTargets", "rds:DeregisterDBProxyTargets", "rds:ModifyDBProxyTargetGroup"),
        ("arn:aws:rds:*:*:target-group:*",),
    ),
    # IAM database authentication: the operator logs in with IAM tokens through RDS Proxies only.
    Rule("RdsIamAuthenticationThroughProxies", ("rds-db:connect",), ("arn:aws:rds-db:*:*:dbuser:prx-*/*",)),
    # CloudWatch: alarms are named <prefix>-<namespace>-<name>-<kind>[-<index>]. DescribeAlarms by name
    # prefix is a read; puts and tags only under the prefix (a put may create, so no resource tag yet),
    # tags only with our owner tag in the request; deletes only of alarms carrying the owner tag.
    Rule("CloudWatchDescribeAlarms", ("cloudwatch:DescribeAlarms",), ("*",)),
    Rule("CloudWatchReadOwnAlarmTags", ("cloudwatch:ListTagsForResource",), (_OUR_ALARMS,)),
    Rule("CloudWatchPutOwnAlarms", ("cloudwatch:PutMetricAlarm",), (_OUR_ALARMS,)),
    Rule("CloudWatchTagOwnAlarms", ("cloudwatch:TagResource",), (_OUR_ALARMS,), _tagged_on_request()),
    Rule("CloudWatchDeleteOwnAlarms", ("cloudwatch:DeleteAlarms",), (_OUR_ALARMS,), _owned()),
    # Secrets Manager: only under our name prefix; values and changes only with our owner tag.
    Rule("SecretsManagerRandomPasswords", ("secretsmanager:GetRandomPassword",), ("*",)),
    Rule(
        "SecretsManagerCreateOwn",
        ("secretsmanager:CreateSecret", "secretsmanager:TagResource"),
        (_SECRETS_OWN_NAMES,),
        _tagged_on_request(),
    ),
    # Metadata reads by name, untagged: observing a secret that does not exist yet (or one left
    # untagged) must answer NotFound or show its tags, not AccessDenied. No values.
    Rule(
        "SecretsManagerDescribeOwnNames",
        ("secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"),
        (_SECRETS_OWN_NAMES,),
    ),
    Rule(
        "SecretsManagerManageOwn",
        ("secretsmanager:*",),
        (_SECRETS_OWN_NAMES,),
        _owned(f"secretsmanager:ResourceTag/{OWNER_TAG}"),
        exclude=(
            "secretsmanager:CreateSecret",
            "secretsmanager:GetRandomPassword",
            "secretsmanager:Describe*",
            "secretsmanager:List*",
        ),
    ),
    # The master user secrets RDS manages (rds!cluster-<id>): RDS tags each with the cluster it
    # belongs to; read and rotate only those of our clusters. RDS itself creates and tags them
    # for CreateDBCluster/ModifyDBCluster (a forward access session): never the operator directly.
    Rule(
        "SecretsManagerOurClustersMasterSecrets",
        ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:RotateSecret"),
        (_RDS_MASTER_SECRETS,),
        {"StringLike": {"secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn": _OUR_CLUSTERS}},
    ),
    Rule(
        "SecretsManagerRdsCreatesMasterSecrets",
        ("secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:RotateSecret"),
        (_RDS_MASTER_SECRETS,),
        {"Bool": {"aws:ViaAWSService": "true"}},
    ),
)


class PolicyError(ValueError):
    """The code calls an action no rule places: add a rule (or a pattern) to RULES."""


def _subclasses(cls: type[Facade]) -> Iterator[type[Facade]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def facades() -> list[type[Facade]]:
    """Every concrete Facade subclass (one that declares ``iam_prefix``), after importing all of aws/."""
    package = importlib.import_module("upskill_operator.aws")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return sorted(
        {cls for cls in _subclasses(Facade) if isinstance(getattr(cls, "iam_prefix", None), str)},
        key=lambda cls: (cls.__module__, cls.__qualname__),
    )


def called_actions() -> set[str]:
    """``prefix:Action`` for every operation some façade declares."""
    actions: set[str] = set()
    for cls in facades():
        for operation in cls.operations:
            name = f"{cls.iam_prefix}:{operation}"
            actions.add(ACTION_NAMES.get(name, name))
    return actions


def required_actions(called: set[str] | None = None) -> set[str]:
    """The called actions plus the ones AWS authorises along with them."""
    actions = set(called_actions() if called is None else called)
    for trigger, implied in IMPLIED.items():
        if trigger in actions:
            actions.update(implied)
    return actions


def _matches(action: str, rule: Rule) -> bool:
    if any(fnmatch.fnmatchcase(action, pattern) for pattern in rule.exclude):
        return False
    return any(fnmatch.fnmatchcase(action, pattern) for pattern in rule.actions)


def _fill(value: Any, prefix: str) -> Any:
    """``{prefix}`` replaced in every string of a condition block (copied)."""
    if isinstance(value, str):
        return value.format(prefix=prefix)
    if isinstance(value, Mapping):
        return {k: _fill(v, prefix) for k, v in value.items()}
    return [_fill(v, prefix) for v in value]


def document(prefix: str = "upskill", actions: set[str] | None = None) -> dict[str, Any]:
    """The IAM policy document for AWS names starting with ``prefix``."""
    wanted = required_actions() if actions is None else actions
    placed: set[str] = set()
    statements: list[dict[str, Any]] = []
    for rule in RULES:
        chosen = sorted(a for a in wanted if _matches(a, rule))
        if not chosen:
            continue
        placed.update(chosen)
        statement: dict[str, Any] = {
            "Sid": rule.sid,
            "Effect": "Allow",
            "Action": chosen,
            "Resource": [r.format(prefix=prefix) for r in rule.resources],
        }
        if rule.condition:
            statement["Condition"] = _fill(rule.condition, prefix)
        statements.append(statement)
    unplaced = sorted(wanted - placed)
    if unplaced:
        raise PolicyError(f"no rule in upskill_operator/generate/iam_policy.py RULES scopes {', '.join(unplaced)}")
    return {"Version": "2012-10-17", "Statement": statements}


def render(prefix: str = "upskill") -> str:
    return json.dumps(document(prefix), indent=2) + "\n"


def granted(policy: Mapping[str, Any]) -> set[str]:
    """Every action a policy document allows (as written: no wildcard expansion)."""
    out: set[str] = set()
    for statement in policy.get("Statement", []):
        actions = statement.get("Action", [])
        out.update([actions] if isinstance(actions, str) else actions)
    return out


def diff(policy: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(missing, extra): actions the code needs that ``policy`` lacks, and ones it grants that no code needs."""
    have, need = granted(policy), required_actions()
    return sorted(need - have), sorted(have - need)


def _check_boundary(policy_file: Path, prefix: str) -> int:
    path = policy_file.parent / boundary.FILE_NAME
    if not path.exists() or path.read_text(encoding="utf-8") != boundary.render(prefix):
        print(f"{path} is stale: run `upskill-operator iam-policy --write {policy_file}`", file=sys.stderr)
        return 1
    return 0


def run(prefix: str = "upskill", *, write: Path | None = None, check: Path | None = None) -> int:
    """Print the policy, write it (and the roles' boundary beside it) to ``write``, or compare with ``check``.

    Exit status 1 when the policy or the boundary file next to it is stale.
    """
    text = render(prefix)
    if check is not None:
        committed = check.read_text(encoding="utf-8")
        missing, extra = diff(json.loads(committed))
        for action in missing:
            print(f"missing: {action}")
        for action in extra:
            print(f"extra:   {action}")
        if committed != text:
            print(f"{check} is stale: run `upskill-operator iam-policy --write {check}`", file=sys.stderr)
            return 1
        if _check_boundary(check, prefix):
            return 1
        print(f"{check} is up to date ({len(granted(json.loads(committed)))} actions)")
        return 0
    if write is not None:
        write.parent.mkdir(parents=True, exist_ok=True)
        write.write_text(text, encoding="utf-8")
        (write.parent / boundary.FILE_NAME).write_text(boundary.render(prefix), encoding="utf-8")
        print(f"wrote {write} and {boundary.FILE_NAME}")
        return 0
    sys.stdout.write(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m upskill_operator.generate.iam_policy",
        description="Print, write or check the operator's IAM policy.",
    )
    parser.add_argument("--prefix", default="upskill", help="AWS name prefix (UPSKILL_NAME_PREFIX; default upskill)")
    parser.add_argument("--write", type=Path, help="write the policy to this file")
    parser.add_argument("--check", type=Path, help="exit 1 when this file differs; print missing and extra actions")
    args = parser.parse_args(argv)
    return run(args.prefix, write=args.write, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
