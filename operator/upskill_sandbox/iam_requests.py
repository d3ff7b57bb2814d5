"""What AWS authorises for one API request: actions, resource ARNs and condition keys, for the enforcing bed.

One request may need several authorisations, as on AWS: a create that carries tags also needs the
tagging action on the new resource (``aws:RequestTag``); CreateDBProxy passes its role
(``iam:PassRole`` with ``iam:PassedToService``); a cluster with ``ManageMasterUserPassword`` makes
RDS create and tag the ``rds!cluster-...`` secret through a forward access session
(``aws:ViaAWSService``); a snapshot (final or on demand) needs CreateDBClusterSnapshot on the cluster
and on the snapshot; KMS use through a service carries ``kms:ViaService``. Resource tags (``aws:ResourceTag/*`` and the
service's own ``secretsmanager:ResourceTag/*``, ``iam:ResourceTag/*``), a role's
``iam:PermissionsBoundary`` and the RDS master secrets' ``aws:rds:primaryDBClusterArn`` tag are read
from the emulator itself with the bed's own (unenforced) credentials, so they are what the service
stores, not what the caller claims.

:func:`authorizations` covers every operation the operator's façades declare; another operation
raises :class:`UnmappedError`, and the bed refuses it (so a new façade call cannot pass unchecked).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from upskill_sandbox.iam_eval import Request

__all__ = ["Lookups", "UnmappedError", "authorizations"]

Params = Mapping[str, Any]


class UnmappedError(LookupError):
    """The bed does not know what AWS authorises for this operation."""


class Lookups:
    """Reads of the emulator's state with unenforced credentials: ARNs, tags, boundaries."""

    def __init__(self, client: Callable[[str, str], Any], region: str, account: str) -> None:
        self._client, self.region, self.account = client, region, account

    def _quiet(self, service: str, call: str, **kwargs: Any) -> dict[str, Any] | None:
        client = self._client(service, self.region)
        try:
            result: dict[str, Any] = getattr(client, call)(**kwargs)
        except client.exceptions.ClientError:
            return None
        return result

    def rds_tags(self, arn: str) -> dict[str, str]:
        found = self._quiet("rds", "list_tags_for_resource", ResourceName=arn) or {}
        return {t["Key"]: t["Value"] for t in found.get("TagList", [])}

    def proxy_arn(self, name: str) -> str:
        found = self._quiet("rds", "describe_db_proxies", DBProxyName=name) or {}
        proxies = found.get("DBProxies") or [{}]
        return str(proxies[0].get("DBProxyArn") or self.arn("rds", f"db-proxy:{name}"))

    def proxy_endpoint_arn(self, name: str) -> str:
        found = self._quiet("rds", "describe_db_proxy_endpoints", DBProxyEndpointName=name) or {}
        endpoints = found.get("DBProxyEndpoints") or [{}]
        return str(endpoints[0].get("DBProxyEndpointArn") or self.arn("rds", f"db-proxy-endpoint:{name}"))

    def target_group_arn(self, proxy: str) -> str:
        found = self._quiet("rds", "describe_db_proxy_target_groups", DBProxyName=proxy) or {}
        groups = found.get("TargetGroups") or [{}]
        return str(groups[0].get("TargetGroupArn") or self.arn("rds", f"target-group:{proxy}"))

    def secret(self, secret_id: str) -> tuple[str, dict[str, str], str | None]:
        """(ARN, tags, KMS key) of a secret; for one that does not exist, an ARN built from the name."""
        found = self._quiet("secretsmanager", "describe_secret", SecretId=secret_id)
        if found is None:
            arn = secret_id if secret_id.startswith("arn:") else self.arn("secretsmanager", f"secret:{secret_id}-x")
            return arn, {}, None
        return found["ARN"], {t["Key"]: t["Value"] for t in found.get("Tags", [])}, found.get("KmsKeyId")

    def role(self, name: str) -> tuple[dict[str, str], str | None]:
        found = (self._quiet("iam", "get_role", RoleName=name) or {}).get("Role", {})
        boundary = (found.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        return {t["Key"]: t["Value"] for t in found.get("Tags", [])}, boundary

    def security_group_tags(self, group_id: str) -> dict[str, str]:
        found = self._quiet("ec2", "describe_security_groups", GroupIds=[group_id]) or {}
        groups = found.get("SecurityGroups") or [{}]
        return {t["Key"]: t["Value"] for t in groups[0].get("Tags", [])}

    def alarm_tags(self, arn: str) -> dict[str, str]:
        found = self._quiet("cloudwatch", "list_tags_for_resource", ResourceARN=arn) or {}
        return {t["Key"]: t["Value"] for t in found.get("Tags", [])}

    def key_arn(self, key_id: str) -> str:
        found = self._quiet("kms", "describe_key", KeyId=key_id) or {}
        return str((found.get("KeyMetadata") or {}).get("Arn") or self.arn("kms", f"key/{key_id}"))

    def arn(self, service: str, resource: str) -> str:
        """``arn:aws:<service>:<region>:<account>:<resource>`` (IAM has no region)."""
        region = "" if service == "iam" else self.region
        return f"arn:aws:{service}:{region}:{self.account}:{resource}"


def _tags_context(tags: Mapping[str, str], *prefixes: str) -> dict[str, str]:
    return {f"{prefix}/{key}": value for prefix in prefixes for key, value in tags.items()}


def _request_tags(tags: Mapping[str, str], keys: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags or keys:
        out["aws:TagKeys"] = sorted(keys if keys is not None else tags)
    return out


def _query_tags(params: Params, prefix: str) -> dict[str, str]:
    """Tags of a query-protocol request: ``<prefix>.<member|Tag|N>.N.Key`` / ``.Value``."""
    found: dict[str, dict[str, str]] = {}
    pattern = re.compile(rf"^{re.escape(prefix)}\.(?:(?:member|Tag)\.)?(\d+)\.(Key|Value)$")
    for name, value in params.items():
        match = pattern.match(name)
        if match:
            found.setdefault(match.group(1), {})[match.group(2)] = str(value)
    return {t["Key"]: t.get("Value", "") for t in found.values() if "Key" in t}


def _query_list(params: Params, prefix: str) -> list[str]:
    pattern = re.compile(rf"^{re.escape(prefix)}\.(?:member\.)?\d+$")
    return [str(v) for k, v in sorted(params.items()) if pattern.match(k)]


def _via(service: str, region: str) -> dict[str, str]:
    return {"kms:ViaService": f"{service}.{region}.amazonaws.com", "aws:ViaAWSService": "true"}


def _kms_through(service: str, key_arn: str, look: Lookups, actions: tuple[str, ...]) -> list[Request]:
    context = {**_via(service, look.region), "kms:GrantIsForAWSResource": "true"}
    return [Request(a, key_arn, context) for a in actions]


_DIRECT = {"aws:ViaAWSService": "false"}


def _dynamodb(op: str, params: Params, look: Lookups) -> list[Request]:
    arn = str(params.get("ResourceArn") or look.arn("dynamodb", f"table/{params.get('TableName', '*')}"))
    tags = {t["Key"]: t.get("Value", "") for t in params.get("Tags") or []}
    context = {**_DIRECT, **_request_tags(tags, params.get("TagKeys"))}
    out = [Request(f"dynamodb:{op}", arn, context)]
    if op == "CreateTable" and tags:
        out.append(Request("dynamodb:TagResource", arn, context))
    key = (params.get("SSESpecification") or {}).get("KMSMasterKeyId")
    if key and op in ("CreateTable", "UpdateTable"):
        out += _kms_through("dynamodb", look.key_arn(key), look, ("kms:CreateGrant", "kms:DescribeKey"))
    return out


def _secretsmanager(op: str, params: Params, look: Lookups) -> list[Request]:
    if op == "GetRandomPassword":
        return [Request("secretsmanager:GetRandomPassword", "*", _DIRECT)]
    request_tags = {t["Key"]: t.get("Value", "") for t in params.get("Tags") or []}
    tags: dict[str, str] = {}
    if op == "CreateSecret":
        arn, key = look.arn("secretsmanager", f"secret:{params['Name']}-x"), params.get("KmsKeyId")
    else:
        arn, tags, key = look.secret(str(params["SecretId"]))
    context = {
        **_DIRECT,
        **_tags_context(tags, "aws:ResourceTag", "secretsmanager:ResourceTag"),
        **_request_tags(request_tags, params.get("TagKeys")),
    }
    out = [Request(f"secretsmanager:{op}", arn, context)]
    if op == "CreateSecret" and request_tags:
        out.append(Request("secretsmanager:TagResource", arn, context))
    if key and not str(key).endswith("aws/secretsmanager"):
        uses = {"CreateSecret": ("kms:GenerateDataKey",), "PutSecretValue": ("kms:GenerateDataKey",)}
        actions = uses.get(op, ("kms:Decrypt",) if op == "GetSecretValue" else ())
        out += _kms_through("secretsmanager", look.key_arn(str(key)), look, actions)
    return out


def _rds_master_secret(look: Lookups, cluster_arn: str, actions: tuple[str, ...], exists: bool) -> list[Request]:
    """RDS acting on the cluster's managed secret with the caller's identity (a forward access session)."""
    tags = {"aws:rds:primaryDBClusterArn": cluster_arn}
    context = {**_via("rds", look.region)}
    if exists:
        context.update(_tags_context(tags, "aws:ResourceTag", "secretsmanager:ResourceTag"))
    else:
        context.update(_request_tags(tags))
    arn = look.arn("secretsmanager", "secret:rds!cluster-x")
    return [Request(a, arn, context) for a in actions]


_RDS_ARNS: dict[str, Callable[[Params, Lookups], str]] = {
    "DBClusterIdentifier": lambda p, look: look.arn("rds", f"cluster:{p['DBClusterIdentifier']}"),
    "DBInstanceIdentifier": lambda p, look: look.arn("rds", f"db:{p['DBInstanceIdentifier']}"),
    "DBSubnetGroupName": lambda p, look: look.arn("rds", f"subgrp:{p['DBSubnetGroupName']}"),
    "DBProxyEndpointName": lambda p, look: look.proxy_endpoint_arn(str(p["DBProxyEndpointName"])),
    "DBProxyName": lambda p, look: look.proxy_arn(str(p["DBProxyName"])),
}


def _rds_arn(op: str, params: Params, look: Lookups) -> str:
    if "ResourceName" in params:
        return str(params["ResourceName"])
    if op in ("RegisterDBProxyTargets", "DeregisterDBProxyTargets", "ModifyDBProxyTargetGroup"):
        return look.target_group_arn(str(params["DBProxyName"]))
    if op == "CreateDBProxy":
        return look.arn("rds", "db-proxy:prx-new")
    if op == "CreateDBProxyEndpoint":
        return look.arn("rds", "db-proxy-endpoint:prx-endpoint-new")
    for field, build in _RDS_ARNS.items():
        if field in params:
            return build(params, look)
    return "*"


def _rds_cluster_snapshot(params: Params, look: Lookups) -> list[Request]:
    """CreateDBClusterSnapshot: authorised on the cluster (its tags) and on the new snapshot (the request's
    tags), plus the tagging of the new snapshot when the request carries tags."""
    cluster = look.arn("rds", f"cluster:{params['DBClusterIdentifier']}")
    snapshot = look.arn("rds", f"cluster-snapshot:{params['DBClusterSnapshotIdentifier']}")
    request_tags = _query_tags(params, "Tags")
    on_cluster = {**_DIRECT, **_tags_context(look.rds_tags(cluster), "aws:ResourceTag")}
    on_snapshot = {**_DIRECT, **_request_tags(request_tags)}
    out = [
        Request("rds:CreateDBClusterSnapshot", cluster, on_cluster),
        Request("rds:CreateDBClusterSnapshot", snapshot, on_snapshot),
    ]
    if request_tags:
        out.append(Request("rds:AddTagsToResource", snapshot, on_snapshot))
    return out


def _rds(op: str, params: Params, look: Lookups) -> list[Request]:
    if op == "CreateDBClusterSnapshot":
        return _rds_cluster_snapshot(params, look)
    arn = _rds_arn(op, params, look)
    request_tags = _query_tags(params, "Tags")
    creating = op.startswith("Create")
    untagged = creating or arn == "*" or op.startswith("Describe") or ":target-group:" in arn
    tags = {} if untagged else look.rds_tags(arn)
    context = {**_DIRECT, **_tags_context(tags, "aws:ResourceTag"), **_request_tags(request_tags)}
    if op == "RemoveTagsFromResource":
        context["aws:TagKeys"] = _query_list(params, "TagKeys")
    out = [Request(f"rds:{op}", arn, context)]
    if creating and request_tags:
        out.append(Request("rds:AddTagsToResource", arn, context))
    if params.get("RoleArn") and op in ("CreateDBProxy", "ModifyDBProxy"):
        out.append(Request("iam:PassRole", str(params["RoleArn"]), {"iam:PassedToService": "rds.amazonaws.com"}))
    if op == "CreateDBCluster" and str(params.get("ManageMasterUserPassword")).lower() == "true":
        actions = ("secretsmanager:CreateSecret", "secretsmanager:TagResource")
        out += _rds_master_secret(look, arn, actions, exists=False)
    if op == "ModifyDBCluster" and str(params.get("ManageMasterUserPassword")).lower() == "true":
        out += _rds_master_secret(
            look, arn, ("secretsmanager:CreateSecret", "secretsmanager:TagResource"), exists=False
        )
    if op == "ModifyDBCluster" and str(params.get("RotateMasterUserPassword")).lower() == "true":
        out += _rds_master_secret(look, arn, ("secretsmanager:RotateSecret",), exists=True)
    if op == "CreateDBCluster" and params.get("KmsKeyId"):
        uses = ("kms:CreateGrant", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt")
        out += _kms_through("rds", look.key_arn(str(params["KmsKeyId"])), look, uses)
    snapshot = params.get("FinalDBSnapshotIdentifier")
    if op == "DeleteDBCluster" and snapshot and str(params.get("SkipFinalSnapshot")).lower() != "true":
        snapshot_arn = look.arn("rds", f"cluster-snapshot:{snapshot}")
        out += [Request(a, snapshot_arn, context) for a in ("rds:DeleteDBCluster", "rds:CreateDBClusterSnapshot")]
        out.append(Request("rds:CreateDBClusterSnapshot", arn, context))
    return out


def _iam(op: str, params: Params, look: Lookups) -> list[Request]:
    arn = look.arn("iam", f"role/{params.get('RoleName', '*')}")
    request_tags = _query_tags(params, "Tags")
    tags: dict[str, str] = {}
    if op == "CreateRole":
        boundary = params.get("PermissionsBoundary")
    else:
        tags, boundary = look.role(str(params["RoleName"]))
    context: dict[str, Any] = {
        **_DIRECT,
        **_tags_context(tags, "aws:ResourceTag", "iam:ResourceTag"),
        **_request_tags(request_tags, _query_list(params, "TagKeys") or None),
    }
    if boundary:
        context["iam:PermissionsBoundary"] = str(boundary)
    out = [Request(f"iam:{op}", arn, context)]
    if op == "CreateRole" and request_tags:
        out.append(Request("iam:TagRole", arn, context))
    return out


def _ec2(op: str, params: Params, look: Lookups) -> list[Request]:
    if op.startswith("Describe"):
        return [Request(f"ec2:{op}", "*", _DIRECT)]
    if op == "CreateSecurityGroup":
        group = look.arn("ec2", "security-group/sg-new")
        context = {**_DIRECT, **_request_tags(_query_tags(params, "TagSpecification.1.Tag"))}
        return [
            Request("ec2:CreateSecurityGroup", group, context),
            Request("ec2:CreateSecurityGroup", look.arn("ec2", f"vpc/{params.get('VpcId', '*')}"), _DIRECT),
            Request("ec2:CreateTags", group, {**context, "ec2:CreateAction": "CreateSecurityGroup"}),
        ]
    ids = _query_list(params, "ResourceId") or [str(params.get("GroupId", "*"))]
    request_tags = _query_tags(params, "Tag")
    out = []
    for group_id in ids:
        tags = look.security_group_tags(group_id)
        context = {
            **_DIRECT,
            **_tags_context(tags, "aws:ResourceTag", "ec2:ResourceTag"),
            **_request_tags(request_tags),
        }
        out.append(Request(f"ec2:{op}", look.arn("ec2", f"security-group/{group_id}"), context))
    return out


def _kms(op: str, params: Params, look: Lookups) -> list[Request]:
    return [Request(f"kms:{op}", look.key_arn(str(params["KeyId"])) if "KeyId" in params else "*", _DIRECT)]


def _cloudwatch(op: str, params: Params, look: Lookups) -> list[Request]:
    """CloudWatch (signing name ``monitoring``): DescribeAlarms has no resource; the others act per alarm ARN,
    and PutMetricAlarm with Tags (on create) is authorised as TagResource too."""
    if op == "DescribeAlarms":
        return [Request("cloudwatch:DescribeAlarms", "*", _DIRECT)]
    if "ResourceARN" in params:
        arns = [str(params["ResourceARN"])]
    else:
        arns = [look.arn("cloudwatch", f"alarm:{n}") for n in params.get("AlarmNames") or [params["AlarmName"]]]
    request_tags = {t["Key"]: t.get("Value", "") for t in params.get("Tags") or []}
    out = []
    for arn in arns:
        context = {**_DIRECT, **_tags_context(look.alarm_tags(arn), "aws:ResourceTag"), **_request_tags(request_tags)}
        out.append(Request(f"cloudwatch:{op}", arn, context))
        if op == "PutMetricAlarm" and request_tags:
            out.append(Request("cloudwatch:TagResource", arn, context))
    return out


_SERVICES: dict[str, Callable[[str, Params, Lookups], list[Request]]] = {
    "monitoring": _cloudwatch,
    "dynamodb": _dynamodb,
    "secretsmanager": _secretsmanager,
    "rds": _rds,
    "iam": _iam,
    "ec2": _ec2,
    "kms": _kms,
}


def authorizations(service: str, operation: str, params: Params, look: Lookups) -> list[Request]:
    """Every authorisation AWS makes for ``operation`` of ``service`` with these request parameters."""
    handler = _SERVICES.get(service)
    if handler is None:
        raise UnmappedError(f"{service}:{operation}")
    try:
        return handler(operation, params, look)
    except KeyError as exc:
        raise UnmappedError(f"{service}:{operation} without {exc}") from None
