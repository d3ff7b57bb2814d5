"""The bad-input corpus of tests/data/invalid: loading the cases, and counting what would change AWS.

Each file is one invalid custom resource, in a folder named after its category. Two annotations say
what must happen to it:

- ``test.upskill.io/expect``: a substring of the refusal, ``spec.<field>: <rule>``;
- ``test.upskill.io/refused-by``: the first gate that refuses it. ``schema`` (the CRD's OpenAPI
  schema, or strict field validation as kubectl asks for it), ``cel`` (the CRD's CEL rules, worded as
  ours), ``webhook`` (only the semantic check, :func:`validate_spec`, sees it), or ``operator`` (only
  the running operator can, because it needs a lookup in AWS). Every gate after the first refuses it too.

An immutable change is a file of two documents: the object as created, then the change refused.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upskill_operator.generate import kubectl_yaml
from upskill_operator.models import kind_info
from upskill_operator.reconcile.protocol import OWNER_TAG

from e2e.conftest import Bed

__all__ = [
    "CATEGORIES",
    "EXPECT",
    "GATES",
    "KINDS",
    "REFUSED_BY",
    "Case",
    "Seeds",
    "http",
    "load_cases",
    "summary",
]

DATA = Path(__file__).parents[1] / "data" / "invalid"
EXPECT = "test.upskill.io/expect"
REFUSED_BY = "test.upskill.io/refused-by"
GATES = ("schema", "cel", "webhook", "operator")
KINDS = ("UpskillTable", "UpskillDatabase", "UpskillSecret")
CATEGORIES = (
    "wrong-type",
    "out-of-range",
    "contradictory",
    "immutable",
    "cross-namespace",
    "name-too-long",
    "injection",
    "missing-reference",
)


@dataclass(frozen=True)
class Case:
    path: Path
    doc: dict[str, Any]
    old: dict[str, Any] | None

    @property
    def id(self) -> str:
        return f"{self.category}/{self.path.stem}"

    @property
    def category(self) -> str:
        return self.path.parent.name

    @property
    def kind(self) -> str:
        return str(self.doc["kind"])

    @property
    def plural(self) -> str:
        return kind_info(self.kind).plural

    @property
    def name(self) -> str:
        return str(self.doc["metadata"]["name"])

    @property
    def expect(self) -> str:
        return str(self.doc["metadata"]["annotations"][EXPECT])

    @property
    def refused_by(self) -> str:
        return str(self.doc["metadata"]["annotations"][REFUSED_BY])

    @property
    def field(self) -> str:
        """``spec.capacity.serverless.minACU`` of ``spec.capacity.serverless.minACU: must be ...``."""
        return self.expect.partition(": ")[0]

    @property
    def rule(self) -> str:
        """The rule as the CRD's CEL words it: the message without its path and its ``(got ...)``."""
        return re.sub(r" \(got [^)]*\)$", "", self.expect.partition(": ")[2])

    def spec(self) -> dict[str, Any]:
        return dict(self.doc.get("spec") or {})

    def old_spec(self) -> dict[str, Any] | None:
        return dict(self.old.get("spec") or {}) if self.old is not None else None


def _case(path: Path) -> Case:
    docs = [doc for doc in kubectl_yaml.load_all(path.read_text(encoding="utf-8")) if doc]
    if len(docs) not in (1, 2):
        raise ValueError(f"{path}: one document, or two (old and new) for an immutable change")
    case = Case(path, docs[-1], docs[0] if len(docs) == 2 else None)
    annotations = case.doc["metadata"].get("annotations") or {}
    if not annotations.get(EXPECT) or annotations.get(REFUSED_BY) not in GATES:
        raise ValueError(f"{path}: needs the {EXPECT} and {REFUSED_BY} ({'|'.join(GATES)}) annotations")
    if case.category not in CATEGORIES or case.kind not in KINDS:
        raise ValueError(f"{path}: unknown category {case.category!r} or kind {case.kind!r}")
    if case.old is not None and (case.old["metadata"]["name"], case.old["kind"]) != (case.name, case.kind):
        raise ValueError(f"{path}: the old and new documents must be the same object")
    return case


def load_cases() -> list[Case]:
    cases = [_case(path) for path in sorted(DATA.glob("*/*.yaml"))]
    names = Counter((case.kind, case.name) for case in cases)
    if repeated := [f"{kind}/{name}" for (kind, name), count in names.items() if count > 1]:
        raise ValueError(f"metadata.name must be unique per kind across the corpus: {repeated}")
    return cases


def summary(cases: list[Case]) -> list[str]:
    """A table of cases per category and kind, and per refusing gate."""
    short = {"UpskillTable": "table", "UpskillDatabase": "database", "UpskillSecret": "secret"}
    counts = Counter((case.category, case.kind) for case in cases)
    width = max(len(c) for c in CATEGORIES)
    lines = [f"{'category':<{width}}  " + "  ".join(f"{short[k]:>8}" for k in KINDS) + "     all"]
    for category in CATEGORIES:
        row = [counts[category, kind] for kind in KINDS]
        lines.append(f"{category:<{width}}  " + "  ".join(f"{n:>8}" for n in row) + f"  {sum(row):>6}")
    totals = [sum(counts[c, kind] for c in CATEGORIES) for kind in KINDS]
    lines.append(f"{'all':<{width}}  " + "  ".join(f"{n:>8}" for n in totals) + f"  {sum(totals):>6}")
    gates = Counter(case.refused_by for case in cases)
    lines.append("first refused by: " + ", ".join(f"{gate} {gates[gate]}" for gate in GATES))
    return lines


def http(url: str, method: str, body: Any = None, content_type: str = "application/json") -> tuple[int, Any]:
    """One request to a local HTTP server: (status, decoded JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": content_type, "Accept": "application/json"}
    request = urllib.request.Request(url, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read() or b"{}")


class Seeds:
    """AWS objects some cases name, made with plain boto3 clients (which the call counter does not see).

    Four are owned by resources of another namespace (``other``): the ``operator`` cases name them,
    and they must come out untouched. The KMS alias is the new key of ``immutable/db-kms-key-change``.
    """

    TABLE = "upskill-other-orders"
    SOURCE = "upskill-corpus-restore-source"
    """A table of the corpus namespace itself (PITR on, keys pk:S), the source the restore cases name."""
    SECRET = "upskill/other/api-key"
    SUBNET_GROUP = "upskill-other-auth-db"
    KMS_ALIAS = "alias/upskill-corpus-other"
    RESTORE_SOURCES = (
        ("upskill-other-reports", "aurora-postgresql", "16.4", "other/reports"),
        ("upskill-corpus-legacy", "aurora-mysql", "8.0.mysql_aurora.3.05.2", "corpus/legacy"),
        ("upskill-corpus-source", "aurora-postgresql", "16.4", "corpus/source"),
    )
    """Clusters (each with a manual snapshot) the restore cases name: another namespace's, an Aurora MySQL one
    of this namespace, and a source whose restorable window a time falls outside of."""

    def __init__(self, bed: Bed) -> None:
        self.dynamodb, self.secrets, self.rds = bed.boto("dynamodb"), bed.boto("secretsmanager"), bed.boto("rds")
        self.ec2, self.kms = bed.boto("ec2"), bed.boto("kms")

    def create(self) -> Seeds:
        self.dynamodb.create_table(
            TableName=self.TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=[{"Key": OWNER_TAG, "Value": "other/orders"}],
        )
        self.dynamodb.create_table(
            TableName=self.SOURCE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=[{"Key": OWNER_TAG, "Value": "corpus/restore-source"}],
        )
        on = {"PointInTimeRecoveryEnabled": True}
        self.dynamodb.update_continuous_backups(TableName=self.SOURCE, PointInTimeRecoverySpecification=on)
        tags = [{"Key": OWNER_TAG, "Value": "other/api-key"}]
        self.secrets.create_secret(Name=self.SECRET, SecretString="not-yours", Tags=tags)
        private = self.ec2.describe_subnets(Filters=[{"Name": "tag:tier", "Values": ["private"]}])["Subnets"]
        self.rds.create_db_subnet_group(
            DBSubnetGroupName=self.SUBNET_GROUP,
            DBSubnetGroupDescription="owned by other/auth-db",
            SubnetIds=[subnet["SubnetId"] for subnet in private],
            Tags=[{"Key": OWNER_TAG, "Value": "other/auth-db"}],
        )
        key = self.kms.create_key(Description="the corpus's other key")["KeyMetadata"]["KeyId"]
        self.kms.create_alias(AliasName=self.KMS_ALIAS, TargetKeyId=key)
        for cluster, engine, version, owner in self.RESTORE_SOURCES:
            self.rds.create_db_cluster(
                DBClusterIdentifier=cluster,
                Engine=engine,
                EngineVersion=version,
                DatabaseName="app",
                MasterUsername="upskill_admin",
                MasterUserPassword="seeded-password-1",
                DBSubnetGroupName=self.SUBNET_GROUP,
                StorageEncrypted=True,
                CopyTagsToSnapshot=True,
                Tags=[{"Key": OWNER_TAG, "Value": owner}],
            )
            self.rds.create_db_cluster_snapshot(
                DBClusterIdentifier=cluster, DBClusterSnapshotIdentifier=f"{cluster}-manual"
            )
        return self

    def foreign_owners(self) -> list[str | None]:
        """The owner tag of each object of another namespace, None for one that is gone or deleted."""
        table = self.dynamodb.describe_table(TableName=self.TABLE)["Table"]
        table_tags = self.dynamodb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
        secret = self.secrets.describe_secret(SecretId=self.SECRET)
        group = self.rds.describe_db_subnet_groups(DBSubnetGroupName=self.SUBNET_GROUP)["DBSubnetGroups"][0]
        group_tags = self.rds.list_tags_for_resource(ResourceName=group["DBSubnetGroupArn"])["TagList"]
        secret_tags = [] if "DeletedDate" in secret else secret.get("Tags") or []
        return [{t["Key"]: t["Value"] for t in tags}.get(OWNER_TAG) for tags in (table_tags, secret_tags, group_tags)]

    def remove(self) -> None:
        self.dynamodb.delete_table(TableName=self.TABLE)
        self.dynamodb.delete_table(TableName=self.SOURCE)
        self.secrets.delete_secret(SecretId=self.SECRET, ForceDeleteWithoutRecovery=True)
        for cluster, *_ in self.RESTORE_SOURCES:
            self.rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=f"{cluster}-manual")
            self.rds.delete_db_cluster(DBClusterIdentifier=cluster, SkipFinalSnapshot=True)
        self.rds.delete_db_subnet_group(DBSubnetGroupName=self.SUBNET_GROUP)
        key = self.kms.describe_key(KeyId=self.KMS_ALIAS)["KeyMetadata"]["KeyId"]
        self.kms.delete_alias(AliasName=self.KMS_ALIAS)
        self.kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
