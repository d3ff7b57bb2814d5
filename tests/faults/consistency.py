"""The crash-consistency verdict for one namespace: AWS holds exactly what the resources ask for,
every object names its live owner, every status matches AWS, everything is Ready.

:func:`expected` derives the full AWS inventory from the resources' specs (names are
deterministic); :func:`problems` compares it with :func:`inventory.inventory` and checks each
resource's status against the describe output, and the Kubernetes objects the operator writes
(the connection ConfigMap, the Secret, the restart mark) against AWS. It returns a list of
human-readable problems: empty means consistent.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from upskill_operator.adapters.database.proxy_role import POLICY_NAME
from upskill_operator.adapters.secret.restart import restart_annotation, version_mark
from upskill_operator.models.common import API_GROUP, API_VERSION
from upskill_sandbox.kube import KubeServer

from faults.inventory import Clients, Inventory, inventory, ownership

__all__ = ["expected", "problems"]

API = f"{API_GROUP}/{API_VERSION}"
PLURALS = {"UpskillTable": "upskilltables", "UpskillDatabase": "upskilldatabases", "UpskillSecret": "upskillsecrets"}


def _ready(obj: Mapping[str, Any]) -> bool:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond["type"] == "Ready":
            return bool(cond["status"] == "True" and cond.get("observedGeneration") == obj["metadata"]["generation"])
    return False


def expected(namespace: str, docs: list[dict[str, Any]], versions: Mapping[str, int]) -> dict[str, list[str]]:
    """The inventory the resources ask for; ``versions`` gives each secret's number of versions.

    Secrets missing from ``versions`` may have any number (their values are checked to be distinct).
    """
    out: dict[str, list[str]] = {}

    def add(kind: str, *names: str) -> None:
        out.setdefault(kind, []).extend(names)

    for doc in docs:
        spec, name = doc["spec"], doc["metadata"]["name"]
        base = f"upskill-{namespace}-{name}"
        if doc["kind"] == "UpskillTable":
            add("table", base)
            add("gsi", *(f"{base}/{g['name']}" for g in spec.get("globalIndexes") or ()))
            add("alarm", *_table_alarms(base, spec))
        elif doc["kind"] == "UpskillDatabase":
            capacity = spec["capacity"]
            readers = (capacity.get("provisioned") or capacity.get("serverless") or {}).get("readReplicas", 0)
            add("cluster", base)
            add("subnet-group", base)
            add("security-group", f"{base}-db")
            add("instance", *(f"{base}-{i}" for i in range(1 + readers)))
            proxy = spec.get("proxy") or {}
            if proxy.get("enabled", True):
                add("role", f"{base}-proxy")
                add("proxy", base)
                add("proxy-target", f"{base}->{base}")
                if proxy.get("readOnlyEndpoint"):
                    add("proxy-endpoint", f"{base}-ro")
            add("alarm", *_database_alarms(base, spec, readers))
        elif doc["kind"] == "UpskillSecret":
            secret = f"upskill/{namespace}/{name}"
            add("secret", secret)
            if name in versions:
                add("secret-version", *(f"{secret}@v{i}" for i in range(versions[name])))
    return {kind: sorted(names) for kind, names in out.items() if names}


TABLE_OPERATIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query")


def _table_alarms(base: str, spec: Mapping[str, Any]) -> list[str]:
    """The CloudWatch alarms of a table's ``spec.monitoring`` (none without it), written out independently."""
    monitoring = spec.get("monitoring")
    if monitoring is None:
        return []
    off = {kind for kind, o in (monitoring.get("alarms") or {}).items() if o.get("enabled") is False}
    indexes = [g["name"] for g in spec.get("globalIndexes") or ()]
    kinds = {
        "readThrottles": [f"{base}-read-throttles"],
        "writeThrottles": [f"{base}-write-throttles"],
        "systemErrors": [f"{base}-system-errors-{op}" for op in TABLE_OPERATIONS],
        "indexReadThrottles": [f"{base}-index-read-throttles-{g}" for g in indexes],
        "indexWriteThrottles": [f"{base}-index-write-throttles-{g}" for g in indexes],
    }
    return [name for kind, names in kinds.items() if kind not in off for name in names]


def _database_alarms(base: str, spec: Mapping[str, Any], readers: int) -> list[str]:
    """The CloudWatch alarms of a database's ``spec.monitoring`` (none without it)."""
    monitoring = spec.get("monitoring")
    if monitoring is None:
        return []
    off = {kind for kind, o in (monitoring.get("alarms") or {}).items() if o.get("enabled") is False}
    kinds = {"cpu": "cpu", "connections": "connections", "freeableMemory": "freeable-memory"}
    if "serverless" in spec["capacity"]:
        kinds["acuUtilization"] = "acu-utilization"
    if readers:
        kinds["replicaLag"] = "replica-lag"
    if (spec.get("proxy") or {}).get("enabled", True):
        kinds.update(
            proxyBorrowLatency="proxy-borrow-latency",
            proxyAuthFailures="proxy-auth-failures",
            proxyPinnedConnections="proxy-pinned-connections",
        )
    return [f"{base}-{slug}" for kind, slug in kinds.items() if kind not in off]


def _shape(found: dict[str, list[str]], counted: set[str]) -> dict[str, list[str]]:
    """Version ids are not known in advance: count them per secret (for the secrets ``counted``)."""
    shaped = {k: v for k, v in found.items() if k != "secret-version"}
    per_secret: dict[str, int] = {}
    for entry in found.get("secret-version", []):
        secret = entry.split("@")[0]
        if secret in counted:
            per_secret[secret] = per_secret.get(secret, 0) + 1
    versions = [f"{s}@v{i}" for s, n in sorted(per_secret.items()) for i in range(n)]
    if versions:
        shaped["secret-version"] = versions
    return shaped


def _table(obj: Mapping[str, Any], inv: Inventory, c: Clients, kube: KubeServer, out: list[str]) -> None:
    status, ns = obj["status"], obj["metadata"]["namespace"]
    table = inv.one("table", status["tableName"])
    if status.get("arn") != table["TableArn"]:
        out.append(f"status.arn {status.get('arn')} != {table['TableArn']}")
    if status.get("streamArn") != table.get("LatestStreamArn"):
        out.append(f"status.streamArn {status.get('streamArn')} != {table.get('LatestStreamArn')}")
    wanted = sorted(g["name"] for g in obj["spec"].get("globalIndexes") or ())
    have = sorted(g["IndexName"] for g in table.get("GlobalSecondaryIndexes") or ())
    if have != wanted:
        out.append(f"GSIs {have} != spec {wanted}")
    spec = obj["spec"]
    ttl = c.ddb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    if spec.get("ttlAttribute") and (ttl.get("TimeToLiveStatus"), ttl.get("AttributeName")) != (
        "ENABLED",
        spec["ttlAttribute"],
    ):
        out.append(f"TTL is {ttl}, the spec asks for {spec['ttlAttribute']}")
    backups = c.ddb.describe_continuous_backups(TableName=table["TableName"])["ContinuousBackupsDescription"]
    pitr = (backups.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus")
    if (spec.get("pointInTimeRecovery") or {"enabled": True}).get("enabled", True) and pitr != "ENABLED":
        out.append(f"point-in-time recovery is {pitr}")
    taken = sorted(b["BackupName"] for b in c.ddb.list_backups(TableName=table["TableName"])["BackupSummaries"])
    asked = sorted(f"{table['TableName']}-{b['name']}" for b in spec.get("backups") or ())
    if taken != asked:  # each entry exactly once: a crash after CreateBackup must not take a second
        out.append(f"on-demand backups {taken} != spec {asked}")
    if spec.get("restore") and not table.get("RestoreSummary"):
        out.append("spec.restore is set but the table was not made by a restore")
    connection = obj["spec"].get("connection")
    if connection:
        cm = kube.get("v1", "configmaps", ns, connection["configMapName"]) or {}
        key = f"{connection.get('keyPrefix', '')}TABLE_ARN"
        if (cm.get("data") or {}).get(key) != table["TableArn"]:
            out.append(f"ConfigMap {connection['configMapName']} {key} != {table['TableArn']}")


def _database(obj: Mapping[str, Any], inv: Inventory, c: Clients, out: list[str]) -> None:
    status, spec = obj["status"], obj["spec"]
    cid = status["clusterIdentifier"]
    cluster = inv.one("cluster", cid)
    endpoints = status.get("endpoints") or {}
    group = inv.one("security-group", f"{cid}-db")
    cidrs = [r["CidrIp"] for p in group.get("IpPermissions") or () if p.get("FromPort") == 5432 for r in p["IpRanges"]]
    instances = sorted(i for i in inv.objects.get("instance", []) if i.startswith(f"{cid}-"))
    pairs = [
        ("status.clusterArn", status.get("clusterArn"), cluster["DBClusterArn"]),
        ("status.endpoints.writer", endpoints.get("writer"), cluster["Endpoint"]),
        ("status.masterUserSecretArn", status.get("masterUserSecretArn"), cluster["MasterUserSecret"]["SecretArn"]),
        ("status.subnetGroupName", status.get("subnetGroupName"), cluster["DBSubnetGroup"]),
        ("status.instances", sorted(i["identifier"] for i in status.get("instances") or ()), instances),
        ("status.securityGroupId", status.get("securityGroupId"), group["GroupId"]),
        ("security group ingress on 5432", sorted(cidrs), sorted(spec["network"]["allowFrom"]["cidrs"])),
    ]
    proxy_spec = spec.get("proxy") or {}
    if proxy_spec.get("enabled", True):
        proxy, role = inv.one("proxy", cid), inv.one("role", f"{cid}-proxy")
        groups = c.rds.describe_db_proxy_target_groups(DBProxyName=cid)["TargetGroups"]
        pool = groups[0]["ConnectionPoolConfig"]
        pairs += [
            ("status.proxyArn", status.get("proxyArn"), proxy["DBProxyArn"]),
            ("status.endpoints.proxy", endpoints.get("proxy"), proxy["Endpoint"]),
            ("status.roleArn", status.get("roleArn"), role["Arn"]),
            ("role policies", c.iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"], [POLICY_NAME]),
            ("pool borrow timeout", pool.get("ConnectionBorrowTimeout"), proxy_spec.get("borrowTimeoutSeconds", 5)),
            ("pool max connections", pool.get("MaxConnectionsPercent"), proxy_spec.get("maxConnectionsPercent", 100)),
        ]
    if proxy_spec.get("readOnlyEndpoint"):
        endpoint = inv.one("proxy-endpoint", f"{cid}-ro")
        pairs += [
            ("status.proxyEndpointArn", status.get("proxyEndpointArn"), endpoint["DBProxyEndpointArn"]),
            ("status.endpoints.proxyReadOnly", endpoints.get("proxyReadOnly"), endpoint["Endpoint"]),
        ]
    out.extend(f"{what}: {have!r}, AWS or the spec says {want!r}" for what, have, want in pairs if have != want)


def _secret(obj: Mapping[str, Any], inv: Inventory, c: Clients, kube: KubeServer, out: list[str]) -> None:
    status, spec, ns = obj["status"], obj["spec"], obj["metadata"]["namespace"]
    secret = inv.one("secret", status["secretName"])
    versions = c.sm.list_secret_version_ids(SecretId=secret["ARN"], IncludeDeprecated=True)["Versions"]
    by_stage = {stage: v["VersionId"] for v in versions for stage in v.get("VersionStages") or ()}
    current = by_stage.get("AWSCURRENT")
    pairs = [
        ("arn", status.get("arn"), secret["ARN"]),
        ("versionId", status.get("versionId"), current),
        ("previousVersionId", status.get("previousVersionId"), by_stage.get("AWSPREVIOUS")),
        ("syncedVersionId", status.get("syncedVersionId"), current),
    ]
    if spec.get("target", {}).get("restartOnChange") and status.get("restartedVersionId") is not None:
        pairs.append(("restartedVersionId", status.get("restartedVersionId"), current))
    out.extend(f"status.{field} {have!r} != AWS {want!r}" for field, have, want in pairs if have != want)
    values = [c.sm.get_secret_value(SecretId=secret["ARN"], VersionId=v["VersionId"]) for v in versions]
    texts = [v.get("SecretString") for v in values]
    if len(set(texts)) != len(texts):
        out.append(f"{len(texts)} versions hold {len(set(texts))} distinct values: a duplicate version")
    if "AWSPENDING" in by_stage:
        out.append(f"a version is left AWSPENDING: {by_stage['AWSPENDING']}")
    target = spec.get("target") or {}
    value = c.sm.get_secret_value(SecretId=secret["ARN"])["SecretString"]
    kube_secret = kube.get("v1", "secrets", ns, target["secretName"]) or {}
    data = kube_secret.get("data") or {}
    for key, want in _delivered(spec, target, value).items():
        raw = data.get(key)
        if raw is None or base64.b64decode(raw).decode() != want:
            out.append(f"Secret {target['secretName']}/{key} does not hold the AWSCURRENT value")


def _delivered(spec: Mapping[str, Any], target: Mapping[str, Any], value: str) -> dict[str, str]:
    """Key -> what the Kubernetes Secret must hold for AWSCURRENT: the value itself, or for an application
    user (whose secret is its credential record) the record's url, or the mapped fields (``target.keys``)."""
    try:
        record = json.loads(value)
    except ValueError:
        record = None
    if target.get("keys"):
        return {m["key"]: str(record.get(m["field"], "")) for m in target["keys"]} if isinstance(record, dict) else {}
    database = (spec.get("source") or {}).get("database") or {}
    if isinstance(record, dict) and database.get("user") and database.get("format", "url") == "url":
        return {target["key"]: str(record.get("url", ""))}
    return {target["key"]: value}


def restart_problems(
    kube: KubeServer, ns: str, secret: Mapping[str, Any], deployment: str, rolls: int, generation: int
) -> list[str]:
    """The Deployment was rolled exactly ``rolls`` times since ``generation``, for the current version."""
    found = kube.get("apps/v1", "deployments", ns, deployment) or {}
    out = []
    if int(found["metadata"]["generation"]) != generation + rolls:
        out.append(
            f"Deployment {deployment} rolled {int(found['metadata']['generation']) - generation} times, not {rolls}"
        )
    annotations = found["spec"]["template"].get("metadata", {}).get("annotations") or {}
    mark = annotations.get(restart_annotation(secret["metadata"]["name"]))
    if rolls and mark != version_mark(secret["status"]["versionId"]):
        out.append(f"Deployment {deployment} is not marked with the current version")
    return out


def problems(
    aws: Clients, kube: KubeServer, namespace: str, docs: list[dict[str, Any]], versions: Mapping[str, int]
) -> list[str]:
    """Everything inconsistent in ``namespace`` (empty: consistent)."""
    out: list[str] = []
    inv = inventory(aws, namespace)
    counted = {f"upskill/{namespace}/{name}" for name in versions}
    have, want = _shape(inv.sorted(), counted), expected(namespace, docs, versions)
    if have != want:
        out.append(f"AWS holds {have}, the resources ask for {want}")
    objs = {d["metadata"]["name"]: kube.get(API, PLURALS[d["kind"]], namespace, d["metadata"]["name"]) for d in docs}
    uids = {f"{namespace}/{name}": (obj or {}).get("metadata", {}).get("uid") for name, obj in objs.items()}
    for what, (owner, uid) in ownership(aws, inv).items():
        if owner not in uids or uid != uids[owner]:
            out.append(f"{what} is tagged for {owner} uid {uid}, which is no live resource (orphan)")
    for name, obj in objs.items():
        if obj is None or not _ready(obj):
            cond = [c for c in ((obj or {}).get("status") or {}).get("conditions") or [] if c["type"] == "Ready"]
            out.append(f"{name} is not Ready: {cond}")
            continue
        try:
            if obj["kind"] == "UpskillTable":
                _table(obj, inv, aws, kube, out)
            elif obj["kind"] == "UpskillDatabase":
                _database(obj, inv, aws, out)
            else:
                _secret(obj, inv, aws, kube, out)
        except (AssertionError, KeyError) as exc:
            out.append(f"{name}: {exc!r}")
    return out
