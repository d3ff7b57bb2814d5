"""Real clients on the operator's own results: the example stack, its delivered Secrets and ConfigMaps, and
BetterAuth/Kysely/node-pg/AWS SDK (tests/clients) plus psycopg and boto3 connecting with exactly those values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest

from upskill_operator.config import AwsSettings, Settings
from upskill_sandbox.aws import MotoServer, aws_env
from upskill_sandbox.kube import KubeServer
from upskill_sandbox.operator_thread import OperatorThread
from upskill_sandbox.stack import find_manifests, load_manifests

from e2e.clients_support import configmap_data, run_node, secret_data, wait_stack_ready
from e2e.conftest import REGION, emulators, wait_for

NAMESPACE = "upskill"
TABLE_CONFIGMAPS = ("notifications-table", "activity-stream-table", "analytics-events-table")
WEB_KEYS = ("AUTH_DB_URL", "BETTER_AUTH_SECRET", "COURSE_DB_URL", "COURSE_DB_READ_URL")
WORKER_KEYS = ("PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "AWS_REGION", "PGSSLROOTCERT")


@dataclass
class Stack:
    aws: MotoServer
    kube: KubeServer
    docs: list[dict[str, Any]]

    def web_env(self) -> dict[str, str]:
        return secret_data(self.kube, NAMESPACE, "web-env")

    def worker_env(self) -> dict[str, str]:
        found = secret_data(self.kube, NAMESPACE, "worker-env")
        missing = [k for k in WORKER_KEYS if k not in found]
        assert not missing, f"worker-env lacks {missing} (contract §4)"
        return found

    def tables_env(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for name in TABLE_CONFIGMAPS:
            data = configmap_data(self.kube, NAMESPACE, name)
            clash = set(merged) & set(data)
            assert not clash, f"ConfigMap {name} repeats keys {sorted(clash)}: envFrom would overwrite them"
            merged.update(data)
        return merged

    def aws_env(self) -> dict[str, str]:
        return aws_env(self.aws.url, REGION)

    def boto(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.aws.url, region_name=REGION)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole example stack, Ready, on moto, the Kubernetes emulator and the TLS data plane."""
    try:
        from upskill_sandbox.dataplane import DataPlane  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        pytest.skip("upskill_sandbox/dataplane.py (the TLS fronts and real backends) is not on this branch")
    workdir: Path = tmp_path_factory.mktemp("clients")
    docs = load_manifests(find_manifests(None))
    with emulators(REGION) as (aws, kube), DataPlane(workdir) as plane:
        for namespace in sorted({d["metadata"].get("namespace", "default") for d in docs}):
            kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        settings = Settings(
            aws=AwsSettings(endpoint_url=aws.url, region=REGION, max_attempts=2),
            kubeconfig=str(kube.write_kubeconfig(workdir / "kubeconfig")),
            metrics_port=0,
            resync_seconds=3,
            requeue_seconds=0.5,
            **plane.settings_overrides(),
        )
        with OperatorThread(settings):
            for doc in docs:
                kube.apply_manifest(doc)
            wait_stack_ready(kube, docs, NAMESPACE)
            yield Stack(aws=aws, kube=kube, docs=docs)


def app_password(stack: Stack, username: str) -> str:
    """The app user's password from its Secrets Manager secret (what the proxy checks), for refusal checks."""
    sm = stack.boto("secretsmanager")
    for page in sm.get_paginator("list_secrets").paginate():
        for entry in page["SecretList"]:
            try:
                value = json.loads(sm.get_secret_value(SecretId=entry["ARN"])["SecretString"])
            except (ValueError, KeyError, sm.exceptions.ClientError):
                continue
            if isinstance(value, dict) and value.get("username") == username and value.get("password"):
                return str(value["password"])
    raise AssertionError(f"no Secrets Manager secret holds a password for {username}")


def test_delivered_values_are_complete_and_verify_tls(stack: Stack) -> None:
    web = stack.web_env()
    assert sorted(k for k in WEB_KEYS if k not in web) == []
    for key in ("AUTH_DB_URL", "COURSE_DB_URL", "COURSE_DB_READ_URL"):
        assert "sslmode=verify-full" in web[key], f"{key} does not verify the server"
        assert "sslrootcert=" in web[key], f"{key} names no CA to verify with"


def test_betterauth_migrations_signup_signin_session(stack: Stack) -> None:
    web = stack.web_env()
    result = run_node("betterauth.mjs", {k: web[k] for k in ("AUTH_DB_URL", "BETTER_AUTH_SECRET")})
    assert result["migrationsPending"] == 0


def test_kysely_writes_reads_and_reader_refuses_writes(stack: Stack) -> None:
    result = run_node("kysely.mjs", stack.web_env())
    assert result["wrote"] == 5
    assert result["readOnlyWriteSqlstate"] == "25006"


def test_dynamo_document_client_on_every_table(stack: Stack) -> None:
    tables = stack.tables_env()
    result = run_node("dynamo.mjs", {**tables, **stack.aws_env()})
    expected = sorted(v for k, v in tables.items() if k.endswith("TABLE_NAME"))
    assert len(expected) == len(TABLE_CONFIGMAPS)
    assert sorted(t["table"] for t in result["tables"]) == expected
    assert all(t["indexes"] for t in result["tables"]), "every example table has an index"


def test_iam_consumer_with_rds_signer_and_password_refused(stack: Stack) -> None:
    worker = stack.worker_env()
    password = app_password(stack, worker["PGUSER"])
    result = run_node("iam.mjs", {**stack.aws_env(), **worker, "IAM_CHECK_PASSWORD": password})
    assert result["user"] == worker["PGUSER"]
    assert result["database"] == worker["PGDATABASE"]
    assert str(result["passwordLoginSqlstate"]).startswith("28"), result


def test_psycopg_password_urls_as_delivered(stack: Stack) -> None:
    web = stack.web_env()
    for key in ("AUTH_DB_URL", "COURSE_DB_URL", "COURSE_DB_READ_URL"):
        with psycopg.connect(web[key], connect_timeout=10) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,), key
    with (
        psycopg.connect(web["COURSE_DB_READ_URL"], connect_timeout=10) as conn,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
    ):
        conn.execute("INSERT INTO courses (slug, title) VALUES ('read-only-check', 'refused')")


def iam_connect(worker: dict[str, str], password: str) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=worker["PGHOST"],
        port=int(worker["PGPORT"]),
        dbname=worker["PGDATABASE"],
        user=worker["PGUSER"],
        password=password,
        sslmode="verify-full",
        sslrootcert=worker["PGSSLROOTCERT"],
        connect_timeout=10,
    )


def test_psycopg_iam_token_connects_and_password_refused(stack: Stack) -> None:
    worker = stack.worker_env()
    token = stack.boto("rds").generate_db_auth_token(
        DBHostname=worker["PGHOST"],
        Port=int(worker["PGPORT"]),
        DBUsername=worker["PGUSER"],
        Region=worker["AWS_REGION"],
    )
    with iam_connect(worker, token) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (worker["PGUSER"],)
    with pytest.raises(psycopg.OperationalError):
        iam_connect(worker, app_password(stack, worker["PGUSER"])).close()


def test_rotation_new_value_connects_old_is_refused(stack: Stack) -> None:
    """Last in the module: it changes the passwords every other test used."""
    before = stack.web_env()
    rotated = [
        d
        for d in stack.docs
        if d["kind"] == "UpskillSecret" and "database" in d["spec"]["source"] and d["spec"].get("rotation")
    ]
    keys = [d["spec"]["target"]["key"] for d in rotated if d["spec"]["target"].get("key") in before]
    assert keys, "the example stack has database UpskillSecrets with rotation"
    for doc in rotated:
        meta = {
            **doc["metadata"],
            "annotations": {**doc["metadata"].get("annotations", {}), "upskill.io/rotate": "now"},
        }
        stack.kube.apply_manifest({**doc, "metadata": meta})
    followers = [k for k in ("COURSE_DB_READ_URL",) if "COURSE_DB_URL" in keys]  # same user: it must follow
    wait_for(
        lambda: all(stack.web_env()[k] != before[k] for k in keys + followers),
        120,
        f"{keys + followers} to change after upskill.io/rotate",
    )
    after = stack.web_env()
    for key in keys + followers:
        with psycopg.connect(after[key], connect_timeout=10) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,), key
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(before[key], connect_timeout=10).close()
    run_node("kysely.mjs", after)
    run_node("betterauth.mjs", {k: after[k] for k in ("AUTH_DB_URL", "BETTER_AUTH_SECRET")})
