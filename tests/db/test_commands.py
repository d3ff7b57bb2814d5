"""``upskill-operator migrate`` and ``check`` against real PostgreSQL, the moto server and the Kubernetes emulator.

The UpskillDatabase objects here carry a status as the database controller publishes it (AWS
endpoint names, the RDS-managed master secret's ARN); ``UPSKILL_ENDPOINT_MAP`` sends those names
to the test PostgreSQL, exactly as the sandbox does. No operator runs: the commands read the
resources and reach the databases and tables themselves.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from db.tcp_proxy import TcpProxy, endpoint_target
from upskill_operator.aws.rds_auth import RdsAuth
from upskill_operator.aws.session import AwsClients
from upskill_operator.cli import main
from upskill_operator.config import AwsSettings
from upskill_operator.generate import crds
from upskill_sandbox.aws import MotoServer, aws_env
from upskill_sandbox.kube import KubeServer

NS = "cmd"
REGION = "us-east-1"
PASSWORD = "pw-Never-Printed-42"
HOSTS = {
    "writer": "c.cluster-abc.us-east-1.rds.amazonaws.com",
    "proxy": "p.proxy-abc.us-east-1.rds.amazonaws.com",
    "proxyReadOnly": "ro.endpoint.proxy-abc.us-east-1.rds.amazonaws.com",
}


class Stack:
    def __init__(self, aws: MotoServer, kube: KubeServer, kubeconfig: Path, pg_server: str) -> None:
        self.aws, self.kube, self.kubeconfig, self.pg_server = aws, kube, kubeconfig, pg_server

    def boto(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.aws.url, region_name=REGION)

    def run(self, *args: str) -> int:
        return main([*args, "--kubeconfig", str(self.kubeconfig)])


@pytest.fixture(scope="module")
def stack(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with MotoServer() as aws, KubeServer() as kube, pytest.MonkeyPatch.context() as env:
        for key, value in aws_env(aws.url, REGION).items():
            env.setenv(key, value)
        env.setenv("UPSKILL_ENDPOINT_MAP", json.dumps({"*.rds.amazonaws.com": endpoint_target(pg_server)}))
        for text in crds.render_all().values():
            kube.apply_yaml(text)
        kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        kubeconfig = kube.write_kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig")
        yield Stack(aws, kube, kubeconfig, pg_server)


@pytest.fixture
def app_database(stack: Stack) -> Iterator[str]:
    """A database owned by upskill_admin, the master user the UpskillDatabase names; its name."""
    name = f"app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(stack.pg_server, autocommit=True) as admin:
        verb = (
            "ALTER" if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'upskill_admin'").fetchone() else "CREATE"
        )
        # as an RDS master user: it may create roles
        admin.execute(sql.SQL(verb + " ROLE upskill_admin LOGIN CREATEROLE PASSWORD {}").format(sql.Literal(PASSWORD)))
        admin.execute(sql.SQL("CREATE DATABASE {} OWNER upskill_admin").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(stack.pg_server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def master_secret(stack: Stack, owner: str) -> tuple[str, str]:
    """An emulated cluster tagged for ``owner`` (as the database controller makes it) whose RDS-managed master
    secret holds the master password: (cluster identifier, secret ARN). The commands read only such a secret."""
    identifier = f"upskill-cmd-{uuid.uuid4().hex[:8]}"
    cluster = stack.boto("rds").create_db_cluster(
        DBClusterIdentifier=identifier,
        Engine="aurora-postgresql",
        MasterUsername="upskill_admin",
        ManageMasterUserPassword=True,
        Tags=[{"Key": "upskill.io/owner", "Value": owner}],
    )["DBCluster"]
    arn = str(cluster["MasterUserSecret"]["SecretArn"])
    stack.boto("secretsmanager").put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": "upskill_admin", "password": PASSWORD})
    )
    return identifier, arn


def database_doc(stack: Stack, name: str, dbname: str, namespace: str = NS, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "engineVersion": "16.4",
        "databaseName": dbname,
        "capacity": {"provisioned": {"instanceClass": "db.t4g.medium", "readReplicas": 1}},
        "network": {"subnetIds": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]},
        "masterUser": {"username": "upskill_admin"},
        "proxy": {"iamAuth": "Disabled", "readOnlyEndpoint": True},
        "deletionProtection": False,
    }
    body.update(spec)
    identifier, arn = master_secret(stack, f"{namespace}/{name}")
    status = {"endpoints": HOSTS, "port": 5432, "clusterIdentifier": identifier, "masterUserSecretArn": arn}
    return {
        "apiVersion": "upskill.io/v1alpha1",
        "kind": "UpskillDatabase",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
        "status": status,
    }


def tables(stack: Stack, dbname: str) -> set[str]:
    with psycopg.connect(make_conninfo(stack.pg_server, dbname=dbname)) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        return {r[0] for r in rows.fetchall()}


def test_migrate_a_url_prints_one_line_per_file_and_hides_the_password(
    stack: Stack, app_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_conninfo(stack.pg_server, dbname=app_database, user="upskill_admin", password=PASSWORD)
    assert main(["migrate", "--database-url", url, "--set", "course", "--dry-run"]) == 0
    assert main(["migrate", "--database-url", url, "--set", "course"]) == 0
    out = capsys.readouterr().out
    assert "  pending  0001_courses" in out
    assert "3 would be applied (dry run)" in out
    assert [line.split()[:2] for line in out.splitlines() if line.startswith("  applied")] == [
        ["applied", "0001_courses"],
        ["applied", "0002_enrollments_progress"],
        ["applied", "0003_app_roles"],
    ]
    assert all(line.endswith(" ms") for line in out.splitlines() if line.startswith("  applied"))
    assert PASSWORD not in out
    assert {"courses", "progress"} <= tables(stack, app_database)


def test_migrate_reports_a_failing_file_and_line_and_exits_1(
    stack: Stack, app_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE ok (id int);\n")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE bad (id int);\n\nSELECT nope FROM ok;\n")
    url = make_conninfo(stack.pg_server, dbname=app_database)

    assert main(["migrate", "--database-url", url, "--dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "applied  0001_ok" in captured.out
    assert f"error: {tmp_path}/0002_bad.sql:3: 42703 column" in captured.err
    assert tables(stack, app_database) == {"ok", "schema_migrations"}


def test_migrate_a_database_resource_uses_its_endpoint_secret_and_spec(
    stack: Stack, app_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.kube.apply_manifest(database_doc(stack, "auth-db", app_database, migrations={"set": "betterauth"}))

    assert stack.run("migrate", "--database", "auth-db", "-n", NS) == 0
    out = capsys.readouterr().out
    assert f"UpskillDatabase {NS}/auth-db via proxy {HOSTS['proxy']}" in out
    assert "applied  0001_core_schema" in out
    assert PASSWORD not in out
    assert {"user", "session", "account", "verification"} <= tables(stack, app_database)
    assert stack.run("migrate", "--database", "missing-db", "-n", NS) == 1


def test_check_passes_when_every_endpoint_answers_within_its_objective(
    stack: Stack, app_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ns = f"chk-{uuid.uuid4().hex[:6]}"
    stack.kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    doc = database_doc(stack, "course-db", app_database, ns, probe={"sloMilliseconds": 5000})
    stack.kube.apply_manifest(doc)
    table = f"check-{uuid.uuid4().hex[:6]}"
    stack.boto("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    stack.kube.apply_manifest(
        {
            "apiVersion": "upskill.io/v1alpha1",
            "kind": "UpskillTable",
            "metadata": {"name": "notes", "namespace": ns},
            "spec": {"keys": {"partition": {"name": "pk", "type": "S"}}, "probe": {"sloMilliseconds": 1000}},
            "status": {"tableName": table},
        }
    )

    assert stack.run("check", "-n", ns, "--samples", "3") == 0
    out = capsys.readouterr().out
    rows = {tuple(line.split()[:3]): line for line in out.splitlines()[1:] if line.startswith("Upskill")}
    assert set(rows) == {
        ("UpskillDatabase", "course-db", "proxy"),
        ("UpskillDatabase", "course-db", "proxyReadOnly"),
        ("UpskillTable", "notes", "table"),
    }
    assert all(line.endswith("ok") for line in rows.values())
    assert "3 of 3 endpoints ok" in out


def test_check_fails_on_a_missing_table_a_slow_endpoint_or_an_empty_namespace(
    stack: Stack, app_database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ns = f"chk-{uuid.uuid4().hex[:6]}"
    stack.kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    assert stack.run("check", "-n", ns) == 1
    assert "nothing to check" in capsys.readouterr().err

    stack.kube.apply_manifest(
        {
            "apiVersion": "upskill.io/v1alpha1",
            "kind": "UpskillTable",
            "metadata": {"name": "gone", "namespace": ns},
            "spec": {"keys": {"partition": {"name": "pk", "type": "S"}}},
            "status": {"tableName": "no-such-table"},
        }
    )
    doc = database_doc(stack, "slow-db", app_database, ns, probe={"sloMilliseconds": 20})
    stack.kube.apply_manifest(doc)
    with TcpProxy(stack.pg_server) as proxy:
        proxy.delay = 0.05
        monkeypatch.setenv("UPSKILL_ENDPOINT_MAP", json.dumps({"*.rds.amazonaws.com": f"127.0.0.1:{proxy.port}"}))
        assert stack.run("check", "-n", ns, "--samples", "2") == 1
    out = capsys.readouterr().out
    lines = {tuple(line.split()[:3]): line for line in out.splitlines() if line.startswith("Upskill")}
    assert "FAIL unavailable" in lines[("UpskillTable", "gone", "table")]
    assert "FAIL slower than the objective" in lines[("UpskillDatabase", "slow-db", "proxy")]
    assert "0 of 3 endpoints ok" in out


def test_iam_auth_tokens_are_signed_for_the_aws_host_and_kept_secret(stack: Stack) -> None:
    clients = AwsClients(AwsSettings(endpoint_url=stack.aws.url, region=REGION))
    token = RdsAuth(clients).token(HOSTS["proxy"], 5432, "upskill_admin")
    value = token.get_secret_value()
    assert value.startswith(f"{HOSTS['proxy']}:5432/?Action=connect&DBUser=upskill_admin")
    assert "X-Amz-Signature=" in value
    assert value not in repr(token)
    assert value not in str(token)
