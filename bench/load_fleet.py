"""The load bench's fleet: the manifests a Git sync would apply, the 10 % rolling change, and the checks.

Tables are small and alike (a key, a TTL attribute, the defaults: PITR on, protection on, Retain).
Databases alternate the two shipped examples (auth-db: Serverless v2 with a proxy; course-db:
provisioned with a reader, a proxy and its read-only endpoint), without migrations and probes (the
bench has no PostgreSQL). Each database has an UpskillSecret holding its proxy URL; the generated
secrets fill a shared Kubernetes Secret, ten keys each.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upskill_operator.generate import kubectl_yaml
from upskill_sandbox.aws import MotoServer

from common import API, REGION

__all__ = ["PLURALS", "Check", "Fleet"]

EXAMPLES = Path(__file__).parents[1] / "manifests/examples/upskill-stack"
PLURALS = {"UpskillTable": "upskilltables", "UpskillDatabase": "upskilldatabases", "UpskillSecret": "upskillsecrets"}
NEW_WINDOW = "04:00-05:00"
ROLLOUT_TAG = ("rollout", "r1")


def _example(which: str) -> dict[str, Any]:
    spec: dict[str, Any] = copy.deepcopy(kubectl_yaml.load((EXAMPLES / f"{which}-db.yaml").read_text())["spec"])
    for key in ("migrations", "probe"):
        spec.pop(key, None)
    return spec


@dataclass(frozen=True)
class Fleet:
    namespace: str
    tables: int
    databases: int
    generated: int

    @property
    def counts(self) -> dict[str, int]:
        return {"UpskillTable": self.tables, "UpskillDatabase": self.databases, "UpskillSecret": self.secrets}

    @property
    def secrets(self) -> int:
        return self.databases + self.generated

    def _doc(self, kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": API, "kind": kind, "metadata": {"name": name, "namespace": self.namespace}, "spec": spec}

    def table(self, i: int, tags: dict[str, str] | None = None) -> dict[str, Any]:
        spec: dict[str, Any] = {"keys": {"partition": {"name": "pk", "type": "S"}}, "ttlAttribute": "expiresAt"}
        if tags:
            spec["tags"] = tags
        return self._doc("UpskillTable", f"t{i:04d}", spec)

    def database(self, i: int, window: str | None = None) -> dict[str, Any]:
        spec = _example("auth" if i % 2 == 0 else "course")
        if window:
            spec["backup"] = {**spec["backup"], "preferredWindow": window}
        return self._doc("UpskillDatabase", f"db{i:03d}", spec)

    def database_url(self, i: int) -> dict[str, Any]:
        spec = {
            "source": {"database": {"ref": f"db{i:03d}", "endpoint": "proxy", "format": "url"}},
            "target": {"secretName": f"db{i:03d}-env", "key": "DATABASE_URL"},
        }
        return self._doc("UpskillSecret", f"db{i:03d}-url", spec)

    def generated_secret(self, i: int, tags: dict[str, str] | None = None) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "source": {"generate": {"length": 48, "excludePunctuation": True}},
            "target": {"secretName": f"app-env-{i // 10:03d}", "key": f"KEY_{i:04d}"},
        }
        if tags:
            spec["tags"] = tags
        return self._doc("UpskillSecret", f"gen{i:04d}", spec)

    def manifests(self) -> Iterator[dict[str, Any]]:
        """Everything, interleaved as a repository sync would apply it."""
        for i in range(max(self.tables, self.databases, self.generated)):
            if i < self.databases:
                yield self.database(i)
                yield self.database_url(i)
            if i < self.tables:
                yield self.table(i)
            if i < self.generated:
                yield self.generated_secret(i)

    def rollout(self) -> list[dict[str, Any]]:
        """The 10 % change: a tag on every tenth table and generated secret, a new backup window on every
        tenth database (ModifyDBCluster)."""
        tag = dict([ROLLOUT_TAG])
        return (
            [self.table(i, tag) for i in range(0, self.tables, 10)]
            + [self.database(i, NEW_WINDOW) for i in range(0, self.databases, 10)]
            + [self.generated_secret(i, tag) for i in range(0, self.generated, 10)]
        )


class Check:
    """Whether AWS shows a rolled-out change, read with plain boto3 (not through the operator)."""

    def __init__(self, aws: MotoServer, namespace: str) -> None:
        self.namespace = namespace
        self.ddb, self.rds, self.sm = (aws.client(s, REGION) for s in ("dynamodb", "rds", "secretsmanager"))

    def applied(self, doc: dict[str, Any]) -> bool:
        name = doc["metadata"]["name"]
        prefix = f"upskill-{self.namespace}-{name}"
        if doc["kind"] == "UpskillTable":
            arn = self.ddb.describe_table(TableName=prefix)["Table"]["TableArn"]
            tags = self.ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]
            return {"Key": ROLLOUT_TAG[0], "Value": ROLLOUT_TAG[1]} in tags
        if doc["kind"] == "UpskillDatabase":
            cluster = self.rds.describe_db_clusters(DBClusterIdentifier=prefix)["DBClusters"][0]
            return bool(cluster["PreferredBackupWindow"] == NEW_WINDOW)
        tags = self.sm.describe_secret(SecretId=f"upskill/{self.namespace}/{name}").get("Tags", [])
        return {"Key": ROLLOUT_TAG[0], "Value": ROLLOUT_TAG[1]} in tags
