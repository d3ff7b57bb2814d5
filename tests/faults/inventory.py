"""What exists in (emulated) AWS for one namespace's resources, read with plain boto3.

Every AWS object the operator makes is named from ``upskill-<namespace>-`` (tables, clusters,
instances, subnet and security groups, proxies, proxy endpoints, roles) or ``upskill/<namespace>/``
(secrets). :func:`inventory` lists each kind by name, including the parts that carry no name of
their own (GSIs, proxy targets, secret versions), so a test can compare the whole list with what
the resources ask for: a duplicate shows as a repeated entry, an orphan as an extra one.
:func:`ownership` reads each object's ownership tags, to check that every one names a live
resource and its uid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.reconcile.protocol import OWNER_TAG, UID_TAG
from upskill_sandbox.aws import MotoServer

__all__ = ["Clients", "Inventory", "inventory", "ownership", "tag_map"]

REGION = "us-east-1"


def tag_map(items: Iterable[dict[str, str]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {t[key]: t[value] for t in items or ()}


class Clients:
    """boto3 clients for the emulator, independent of the environment."""

    def __init__(self, aws: MotoServer) -> None:
        self.ddb = aws.client("dynamodb", REGION)
        self.rds = aws.client("rds", REGION)
        self.ec2 = aws.client("ec2", REGION)
        self.iam = aws.client("iam", REGION)
        self.sm = aws.client("secretsmanager", REGION)
        self.cw = aws.client("cloudwatch", REGION)


@dataclass
class Inventory:
    """Names per kind (sorted; repeated when AWS holds two)."""

    objects: dict[str, list[str]] = field(default_factory=dict)
    raw: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """The describe output of each object, per kind, for status checks."""

    def add(self, kind: str, name: str, raw: dict[str, Any] | None = None) -> None:
        self.objects.setdefault(kind, []).append(name)
        self.raw.setdefault(kind, []).append(raw or {})

    def sorted(self) -> dict[str, list[str]]:
        return {kind: sorted(names) for kind, names in self.objects.items() if names}

    def one(self, kind: str, name: str) -> dict[str, Any]:
        found = [r for n, r in zip(self.objects.get(kind, []), self.raw.get(kind, []), strict=True) if n == name]
        assert len(found) == 1, f"{kind} {name}: {len(found)} in AWS"
        return found[0]


def _all(client: Any, operation: str, key: str, **params: Any) -> list[Any]:
    """Every item of a listing, page after page: earlier tests leave more than one page in the emulator."""
    return [item for page in client.get_paginator(operation).paginate(**params) for item in page[key]]


def _tables(c: Clients, dash: str, inv: Inventory) -> None:
    for name in _all(c.ddb, "list_tables", "TableNames"):
        if name.startswith(dash):
            table = c.ddb.describe_table(TableName=name)["Table"]
            inv.add("table", name, table)
            for index in table.get("GlobalSecondaryIndexes") or []:
                inv.add("gsi", f"{name}/{index['IndexName']}", index)


def _rds(c: Clients, dash: str, inv: Inventory) -> None:
    for cluster in _all(c.rds, "describe_db_clusters", "DBClusters"):
        if cluster["DBClusterIdentifier"].startswith(dash):
            inv.add("cluster", cluster["DBClusterIdentifier"], cluster)
    for instance in _all(c.rds, "describe_db_instances", "DBInstances"):
        if instance["DBInstanceIdentifier"].startswith(dash):
            inv.add("instance", instance["DBInstanceIdentifier"], instance)
    for group in _all(c.rds, "describe_db_subnet_groups", "DBSubnetGroups"):
        if group["DBSubnetGroupName"].startswith(dash):
            inv.add("subnet-group", group["DBSubnetGroupName"], group)
    for proxy in _all(c.rds, "describe_db_proxies", "DBProxies"):
        name = proxy["DBProxyName"]
        if not name.startswith(dash):
            continue
        inv.add("proxy", name, proxy)
        for target in c.rds.describe_db_proxy_targets(DBProxyName=name)["Targets"]:
            inv.add("proxy-target", f"{name}->{target.get('RdsResourceId')}", target)
        for endpoint in c.rds.describe_db_proxy_endpoints(DBProxyName=name)["DBProxyEndpoints"]:
            if not endpoint.get("IsDefault"):
                inv.add("proxy-endpoint", endpoint["DBProxyEndpointName"], endpoint)


def _network_and_roles(c: Clients, dash: str, inv: Inventory) -> None:
    for group in _all(c.ec2, "describe_security_groups", "SecurityGroups"):
        if group["GroupName"].startswith(dash):
            inv.add("security-group", group["GroupName"], group)
    for role in _all(c.iam, "list_roles", "Roles"):
        if role["RoleName"].startswith(dash):
            inv.add("role", role["RoleName"], role)


def _secrets(c: Clients, slash: str, inv: Inventory) -> None:
    for secret in _all(c.sm, "list_secrets", "SecretList", IncludePlannedDeletion=True):
        name = secret["Name"]
        if not name.startswith(slash):
            continue
        inv.add("secret", name, secret)
        versions = c.sm.list_secret_version_ids(SecretId=secret["ARN"], IncludeDeprecated=True)["Versions"]
        for version in versions:
            inv.add("secret-version", f"{name}@{version['VersionId']}", version)


def _alarms(c: Clients, dash: str, inv: Inventory) -> None:
    for alarm in _all(c.cw, "describe_alarms", "MetricAlarms", AlarmNamePrefix=dash):
        inv.add("alarm", alarm["AlarmName"], alarm)


def inventory(c: Clients, namespace: str, prefix: str = "upskill") -> Inventory:
    """Every AWS object named for ``namespace``, by kind."""
    inv = Inventory()
    dash, slash = f"{prefix}-{namespace}-", f"{prefix}/{namespace}/"
    _tables(c, dash, inv)
    _rds(c, dash, inv)
    _network_and_roles(c, dash, inv)
    _secrets(c, slash, inv)
    _alarms(c, dash, inv)
    return inv


def ownership(c: Clients, inv: Inventory) -> dict[str, tuple[str | None, str | None]]:
    """``kind name`` -> (owner tag, uid tag) for every object of the inventory that carries tags."""
    out: dict[str, tuple[str | None, str | None]] = {}

    def note(kind: str, name: str, tags: dict[str, str]) -> None:
        out[f"{kind} {name}"] = (tags.get(OWNER_TAG), tags.get(UID_TAG))

    for name, raw in zip(inv.objects.get("table", []), inv.raw.get("table", []), strict=True):
        note("table", name, tag_map(c.ddb.list_tags_of_resource(ResourceArn=raw["TableArn"])["Tags"]))
    for kind, arn_key in (
        ("cluster", "DBClusterArn"),
        ("instance", "DBInstanceArn"),
        ("subnet-group", "DBSubnetGroupArn"),
        ("proxy", "DBProxyArn"),
        ("proxy-endpoint", "DBProxyEndpointArn"),
    ):
        for name, raw in zip(inv.objects.get(kind, []), inv.raw.get(kind, []), strict=True):
            note(kind, name, tag_map(c.rds.list_tags_for_resource(ResourceName=raw[arn_key])["TagList"]))
    for name, raw in zip(inv.objects.get("security-group", []), inv.raw.get("security-group", []), strict=True):
        note("security-group", name, tag_map(raw.get("Tags")))
    for name in inv.objects.get("role", []):
        note("role", name, tag_map(c.iam.list_role_tags(RoleName=name)["Tags"]))
    for name, raw in zip(inv.objects.get("secret", []), inv.raw.get("secret", []), strict=True):
        note("secret", name, tag_map(raw.get("Tags")))
    for name, raw in zip(inv.objects.get("alarm", []), inv.raw.get("alarm", []), strict=True):
        note("alarm", name, tag_map(c.cw.list_tags_for_resource(ResourceARN=raw["AlarmArn"])["Tags"]))
    return out
