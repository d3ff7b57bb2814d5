"""An attacker's namespace against a victim's, through the emulators: every take-over is refused, touching nothing.

The victim's AWS objects are made outside the operator (tagged for a victim resource, or untagged as a
team's hand-made or restored objects are). The attacker's resources name them through every door: an
explicit name with and without ``spec.adopt``, a derived name another namespace shares
(``adv<hex>``/``b-x`` against ``adv<hex>-b``/``x``), and forged status fields. Each is Terminal with a
message naming the field and the rule; no AWS write is made, before or after the attacker deletes its
resources with ``deletionPolicy: Delete``; no secret value of the victim is read (Secrets Manager's
LastAccessedDate, which the bed emulates, stays absent) and nothing lands in the attacker's Secrets.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from e2e.adversary_support import DATABASES, SECRETS, TABLES, Arena, arena, owner_tag, tags
from e2e.conftest import API, Bed, condition, wait_for
from e2e.db_support import example
from e2e.secret_support import database_status

pytestmark = pytest.mark.e2e

KEYS = {"partition": {"name": "pk", "type": "S"}}
TABLE = {"keys": KEYS, "ttlAttribute": "expiresAt", "stream": "NEW_AND_OLD_IMAGES", "deletionProtection": False}
GENERATE = {"generate": {"length": 32, "excludePunctuation": True}}


def table_spec(**spec: Any) -> dict[str, Any]:
    return {**TABLE, "deletionPolicy": "Delete", **spec}


def secret_spec(**spec: Any) -> dict[str, Any]:
    body = {"source": GENERATE, "target": {"secretName": "stolen", "key": "KEY"}, "deletionPolicy": "Delete"}
    return {**body, "forceDelete": True, **spec}


def database_spec(**spec: Any) -> dict[str, Any]:
    body = copy.deepcopy(example("auth")["spec"])
    for key in ("migrations", "probe"):
        body.pop(key, None)
    return {**body, "deletionProtection": False, "deletionPolicy": "Delete", **spec}


def victim_table(arena: Arena, name: str, owner: str | None = None) -> None:
    ddb = arena.boto("dynamodb")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "team", "Value": "b"}, *(owner_tag(owner) if owner else [])],
    )
    ddb.put_item(TableName=name, Item={"pk": {"S": "invoice-1"}})


def table_state(arena: Arena, name: str) -> tuple[Any, ...]:
    """Everything the attacker could change: the table, TTL, PITR, tags and the data."""
    ddb = arena.boto("dynamodb")
    table = ddb.describe_table(TableName=name)["Table"]
    return (
        table,
        ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"],
        ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"],
        ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"],
        ddb.scan(TableName=name)["Items"],
    )


def secret_state(arena: Arena, secret_id: str) -> dict[str, Any]:
    found = dict(arena.boto("secretsmanager").describe_secret(SecretId=secret_id))
    found.pop("ResponseMetadata", None)
    return found


def passes_made(bed: Bed, operation: tuple[str, str], more: int) -> None:
    """Wait until the operator has looked ``more`` more times (resyncs every second): refusals stay refusals."""
    seen = sum(1 for c in list(bed.calls.calls) if c == operation)
    wait_for(lambda: sum(1 for c in list(bed.calls.calls) if c == operation) >= seen + more, 30, f"{more} looks")


def test_tables_and_secrets_of_another_namespace_are_never_taken(bed: Bed, monkeypatch: pytest.MonkeyPatch) -> None:
    with arena(bed, monkeypatch, databases=False) as a:
        hand_made, tagged, shared = f"{a.victim}-payments", f"upskill-{a.victim}-ledger", f"upskill-{a.victim}-orders"
        victim_table(a, hand_made)
        victim_table(a, tagged, owner=f"{a.victim}/ledger")
        victim_table(a, shared)  # the name a.victim/orders derives, and a.attacker/b-orders too
        sm = a.boto("secretsmanager")
        live, kept = f"{a.victim}/stripe-live", f"upskill/{a.victim}/stripe"
        sm.create_secret(Name=live, SecretString="sk_live_victim")
        sm.create_secret(Name=kept, SecretString="sk_kept_victim", Tags=owner_tag(f"{a.victim}/stripe"))
        cluster_id = f"upskill-{a.victim}-db"
        _, master = a.victim_cluster(cluster_id, owner=f"{a.victim}/db")
        secrets = (live, kept, master)
        before = {name: table_state(a, name) for name in (hand_made, tagged, shared)}
        before_secrets = {name: secret_state(a, name) for name in secrets}

        tables = {
            "steal-hand-made": (table_spec(tableName=hand_made, adopt=True), None, "OutsideAdoptionScope"),
            "steal-hand-made-plain": (table_spec(tableName=hand_made), None, "OutsideAdoptionScope"),
            "steal-tagged": (table_spec(tableName=tagged, adopt=True), None, "ForeignOwner"),
            "b-orders": (table_spec(adopt=True), None, "OutsideAdoptionScope"),
            "forged": (table_spec(adopt=True), {"tableName": hand_made}, "ImmutableField"),
        }
        forged_db = {**database_status(master), "clusterIdentifier": cluster_id}
        a.apply(DATABASES, "db", database_spec(), status=forged_db)
        secret_cases = {
            "steal-live": (secret_spec(secretName=live, adopt=True), None, "OutsideAdoptionScope"),
            "steal-live-plain": (secret_spec(secretName=live), None, "OutsideAdoptionScope"),
            "steal-kept": (secret_spec(secretName=kept, adopt=True), None, "ForeignOwner"),
            "forged-arn": (secret_spec(adopt=True), {"secretName": live, "arn": "forged"}, "ImmutableField"),
            "forged-db": (
                secret_spec(source={"database": {"ref": "db"}}, target={"secretName": "stolen-url", "key": "URL"}),
                None,
                "ForeignOwner",
            ),
        }
        messages = a.attack({TABLES: tables, SECRETS: secret_cases})
        passes_made(bed, ("dynamodb", "DescribeTable"), 10)
        passes_made(bed, ("secrets-manager", "DescribeSecret"), 10)

        assert bed.calls.mutating() == []
        scope = f"outside the adoption scope of namespace {a.attacker!r}"
        assert messages["steal-hand-made"].startswith(f"table: spec.tableName: {hand_made!r} exists without")
        assert scope in messages["steal-hand-made"]
        assert (
            f"only the name this resource derives itself ('upskill-{a.attacker}-steal-hand-made')"
            in (messages["steal-hand-made"])
        )
        assert scope in messages["steal-hand-made-plain"]  # adopt would not help: the message does not offer it
        assert "set spec.adopt" not in messages["steal-hand-made-plain"]
        assert f"owned by '{a.victim}/ledger'" in messages["steal-tagged"]
        assert f"namespace {a.victim!r} derives the same name" in messages["b-orders"]
        assert messages["steal-live"].startswith(f"secret: spec.secretName: {live!r} exists without")
        assert f"owned by '{a.victim}/stripe'" in messages["steal-kept"]
        assert f"names cluster {cluster_id!r}, which is owned by '{a.victim}/db'" in messages["forged-db"]
        assert "spec.tableName: immutable after creation" in messages["forged"]
        assert "spec.secretName: immutable after creation" in messages["forged-arn"]
        assert all(a.never_read(name) for name in secrets)
        assert (a.kube_secret("stolen"), a.kube_secret("stolen-url")) == (None, None)

        a.delete_all(TABLES, list(tables))  # deletionPolicy Delete: only what is theirs may go
        a.delete_all(SECRETS, list(secret_cases))

        assert bed.calls.mutating() == []
        assert {name: table_state(a, name) for name in before} == before
        assert {name: secret_state(a, name) for name in secrets} == before_secrets
        assert all(a.never_read(name) for name in secrets)


def test_an_administrators_grant_is_the_one_way_to_adopt_a_hand_made_table(
    bed: Bed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The grant names the attacker's namespace only: the same table stays out of every other namespace's reach."""
    with arena(bed, monkeypatch, databases=False, grant="legacy-{attacker}-*") as a:
        name = f"legacy-{a.attacker}-orders"
        victim_table(a, name)
        a.apply(TABLES, "orders", table_spec(tableName=name, adopt=True))
        a.bed.kube.apply_manifest(
            {
                "apiVersion": API,
                "kind": "UpskillTable",
                "metadata": {"name": "orders", "namespace": a.victim},
                "spec": table_spec(tableName=name, adopt=True),
            }
        )
        a.bed.start_operator()
        a.objects.ready(TABLES, a.attacker, "orders")
        ddb = a.boto("dynamodb")
        arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
        assert tags(ddb.list_tags_of_resource(ResourceArn=arn)["Tags"])["upskill.io/owner"] == f"{a.attacker}/orders"

        def victims_refusal() -> dict[str, Any] | None:
            found = condition(a.objects.get(TABLES, a.victim, "orders"), "Terminal")
            return found if found.get("status") == "True" else None

        refused = wait_for(victims_refusal, 30, "the other namespace refused")
        assert refused["reason"] in ("OutsideAdoptionScope", "ForeignOwner")  # whichever pass came first
        assert ddb.scan(TableName=name)["Items"] == [{"pk": {"S": "invoice-1"}}]


def test_an_untagged_secret_with_the_derived_name_is_tagged_before_its_value_is_read(
    bed: Bed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The adoption allowed without a grant: ``upskill/<namespace>/<name>`` itself (``/`` joins have no rivals)."""
    with arena(bed, monkeypatch, databases=False) as a:
        name = f"upskill/{a.attacker}/legacy"
        a.boto("secretsmanager").create_secret(Name=name, SecretString="legacy-value")
        a.apply(SECRETS, "legacy", secret_spec(adopt=True))
        a.bed.calls.clear()
        a.bed.start_operator()
        a.objects.ready(SECRETS, a.attacker, "legacy")
        calls = [op for service, op in list(bed.calls.calls) if service == "secrets-manager"]
        assert calls.index("TagResource") < calls.index("GetSecretValue")
        found = a.boto("secretsmanager").describe_secret(SecretId=name)
        assert tags(found["Tags"])["upskill.io/owner"] == f"{a.attacker}/legacy"


def test_a_forged_master_secret_arn_reads_only_the_databases_own_secret(
    bed: Bed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Status names the victim's master secret, but the cluster it names is the attacker's own: RDS's
    answer wins, so the URL carries the attacker's own credentials and the victim's secret stays unread."""
    with arena(bed, monkeypatch, databases=False) as a:
        _, victim_master = a.victim_cluster(f"upskill-{a.victim}-db", owner=f"{a.victim}/db")
        own_id = f"upskill-{a.attacker}-db"
        _, own_master = a.victim_cluster(own_id, owner=f"{a.attacker}/db")  # as the database controller made it
        a.boto("secretsmanager").put_secret_value(
            SecretId=own_master, SecretString='{"username": "victim_admin", "password": "own-pw"}'
        )
        a.apply(
            DATABASES, "db", database_spec(), status={**database_status(victim_master), "clusterIdentifier": own_id}
        )
        a.apply(
            SECRETS,
            "url",  # the writer: the master logs in with its password there (the proxy's entry requires IAM)
            secret_spec(
                source={"database": {"ref": "db", "endpoint": "writer"}}, target={"secretName": "app", "key": "U"}
            ),
        )
        a.bed.start_operator()

        found = wait_for(lambda: (a.kube_secret("app") or {}).get("data"), 30, "the attacker's own URL")
        url = base64.b64decode(found["U"]).decode()
        assert url.startswith("postgresql://victim_admin:own-pw@")
        assert a.never_read(victim_master)


def test_databases_never_take_another_namespaces_cluster(bed: Bed, monkeypatch: pytest.MonkeyPatch) -> None:
    with arena(bed, monkeypatch, databases=True) as a:
        hand_made, tagged, shared = f"{a.victim}-legacy", f"upskill-{a.victim}-main", f"upskill-{a.victim}-old"
        clusters = {
            hand_made: a.victim_cluster(hand_made, owner=None),
            tagged: a.victim_cluster(tagged, owner=f"{a.victim}/main"),
            shared: a.victim_cluster(shared, owner=None),  # a.victim/old derives it, and a.attacker/b-old too
        }
        rds = a.boto("rds")

        def cluster_state(identifier: str) -> tuple[Any, ...]:
            found = rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]
            return found["Status"], tags(found.get("TagList")), found.get("DeletionProtection")

        before = {identifier: cluster_state(identifier) for identifier in clusters}
        cases = {
            "steal-hand-made": (database_spec(clusterIdentifier=hand_made, adopt=True), None, "OutsideAdoptionScope"),
            "steal-hand-made-plain": (database_spec(clusterIdentifier=hand_made), None, "OutsideAdoptionScope"),
            "steal-tagged": (database_spec(clusterIdentifier=tagged, adopt=True), None, "ForeignOwner"),
            "b-old": (database_spec(adopt=True), None, "OutsideAdoptionScope"),
            "forged": (database_spec(adopt=True), {"clusterIdentifier": tagged}, "ImmutableField"),
        }
        messages = a.attack({DATABASES: cases})
        passes_made(bed, ("rds", "DescribeDBSubnetGroups"), 10)

        assert bed.calls.mutating() == []
        assert "spec.clusterIdentifier" in messages["steal-hand-made"]
        assert f"{hand_made!r} exists without the upskill.io/owner tag" in messages["steal-hand-made"]
        assert f"owned by '{a.victim}/main'" in messages["steal-tagged"]
        assert f"namespace {a.victim!r} derives the same name" in messages["b-old"]
        assert "spec.clusterIdentifier: immutable after creation" in messages["forged"]

        a.delete_all(DATABASES, list(cases))

        assert bed.calls.mutating() == []
        assert {identifier: cluster_state(identifier) for identifier in clusters} == before
        assert all(a.never_read(master) for _, master in clusters.values())
