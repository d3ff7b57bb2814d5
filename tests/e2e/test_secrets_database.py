"""UpskillSecret's ``database`` source end to end, against UpskillDatabase objects written by the test.

The UpskillDatabase controller is not under test here: its objects get their status through
``/status`` (as the controller would write it) and an RDS-managed master secret
(``rds!cluster-...``) is created in moto. The operator runs without the database controller, so
nothing else writes those statuses.

Emulated AWS behaviour: RDS's side of a master password rotation. The operator's
ModifyDBCluster(RotateMasterUserPassword) attempt is answered by the test (an attempt observer)
and the test then writes the new master secret version with put_secret_value, as RDS would.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from upskill_sandbox.operator_thread import OperatorThread
from upskill_sandbox.postgres import postgres

from e2e.conftest import Bed, condition, wait_for
from e2e.secret_support import (
    PLURAL,
    PROXY,
    WRITER,
    apply_database,
    aws_name,
    canned,
    database_status,
    kube_value,
    master_secret,
    ready,
    secret_doc,
    secrets_operator,
    unique,
    versions,
    waiting,
)

pytestmark = pytest.mark.e2e

PASSWORD = "p@ss:/w?rd#%&="
ENCODED = "p%40ss%3A%2Fw%3Frd%23%25%26%3D"
MODIFY_OK = (
    b'<ModifyDBClusterResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><ModifyDBClusterResult>'
    b"<DBCluster><DBClusterIdentifier>upskill-auth</DBClusterIdentifier></DBCluster></ModifyDBClusterResult>"
    b"<ResponseMetadata><RequestId>emulated</RequestId></ResponseMetadata></ModifyDBClusterResponse>"
)


@pytest.fixture
def operator(bed: Bed, monkeypatch: pytest.MonkeyPatch) -> Iterator[OperatorThread]:
    """This module's operator: fast clocks, no UpskillDatabase controller (see secret_support)."""
    with secrets_operator(bed, monkeypatch) as running:
        yield running


def url(host: str = PROXY, password: str = ENCODED, port: int = 5432) -> str:
    return f"postgresql://upskill_admin:{password}@{host}:{port}/auth?sslmode=require"


def test_a_url_waits_for_its_database_then_follows_credentials_and_endpoints(
    bed: Bed, operator: OperatorThread
) -> None:
    db, name, target = unique("auth-db"), unique("auth-url"), unique("env")
    bed.apply(secret_doc(name, {"database": {"ref": db}}, target={"secretName": target, "key": "AUTH_DB_URL"}))
    obj = waiting(bed, name, "does not exist")
    assert condition(obj, "Terminal")["status"] == "False"

    apply_database(bed, db)
    waiting(bed, name, "to be Ready")
    arn = master_secret(bed, "upskill_admin", PASSWORD)
    apply_database(bed, db, database_status(arn, ready=False))
    waiting(bed, name, "to be Ready")

    apply_database(bed, db, database_status(arn))
    ready(bed, name)
    assert kube_value(bed, target, "AUTH_DB_URL") == url()
    assert PASSWORD not in json.dumps(bed.get(PLURAL, name))

    bed.boto("secretsmanager").put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": "upskill_admin", "password": "n3w pass"})
    )
    wait_for(lambda: kube_value(bed, target, "AUTH_DB_URL") == url(password="n3w%20pass"), 20, "new password")
    old, new = url(), url(password="n3w%20pass")
    stages = {tuple(v["VersionStages"]) for v in versions(bed, name)}
    assert stages == {("AWSCURRENT",), ("AWSPREVIOUS",)}  # the old URL stays AWSPREVIOUS
    assert old != new

    apply_database(bed, db, database_status(arn, proxy="moved.proxy-abc.us-east-1.rds.amazonaws.com", port=6432))
    moved = url(host="moved.proxy-abc.us-east-1.rds.amazonaws.com", password="n3w%20pass", port=6432)
    wait_for(lambda: kube_value(bed, target, "AUTH_DB_URL") == moved, 20, "new endpoint")


def test_json_form_fills_several_keys(bed: Bed, operator: OperatorThread) -> None:
    db, name, target = unique("course-db"), unique("course-read"), unique("env")
    apply_database(bed, db, database_status(master_secret(bed, "upskill_admin", PASSWORD)))
    keys = [{"key": "DB_URL", "field": "url"}, {"key": "DB_HOST", "field": "host"}, {"key": "DB_PORT", "field": "port"}]
    bed.apply(
        secret_doc(
            name,
            {"database": {"ref": db, "endpoint": "writer", "format": "json"}},
            target={"secretName": target, "keys": keys},
        )
    )
    ready(bed, name)
    assert kube_value(bed, target, "DB_URL") == url(host=WRITER)
    assert kube_value(bed, target, "DB_HOST") == WRITER
    assert kube_value(bed, target, "DB_PORT") == "5432"
    document = json.loads(bed.boto("secretsmanager").get_secret_value(SecretId=aws_name(name))["SecretString"])
    assert document["password"] == PASSWORD


def test_rotation_asks_rds_for_new_credentials_then_follows_them(bed: Bed, operator: OperatorThread) -> None:
    db, name, target = unique("auth-db"), unique("auth-url"), unique("env")
    arn = master_secret(bed, "upskill_admin", PASSWORD)
    apply_database(bed, db, database_status(arn))
    doc = secret_doc(
        name, {"database": {"ref": db}}, rotation={"everyDays": 30}, target={"secretName": target, "key": "URL"}
    )
    bed.apply(doc)
    ready(bed, name)
    asked: list[str] = []

    def rds(service: str, operation: str) -> Any:
        if operation == "ModifyDBCluster":
            asked.append(operation)
            return canned(200, MODIFY_OK, "text/xml")
        return None

    bed.hooks.attempts.append(rds)
    try:
        bed.apply({**doc, "metadata": {**doc["metadata"], "annotations": {"upskill.io/rotate": "now"}}})
        wait_for(lambda: asked, 20, "RotateMasterUserPassword")
        waiting(bed, name, "waiting for AWS to finish the rotation")
        assert kube_value(bed, target, "URL") == url()  # nothing changes before RDS has the new password
        bed.boto("secretsmanager").put_secret_value(  # RDS: the new password is set, then stored
            SecretId=arn, SecretString=json.dumps({"username": "upskill_admin", "password": "rotated"})
        )
        wait_for(lambda: kube_value(bed, target, "URL") == url(password="rotated"), 20, "rotated URL")
        status = ready(bed, name)["status"]
    finally:
        bed.hooks.attempts.remove(rds)
    assert asked == ["ModifyDBCluster"]
    assert status["rotationRequest"] == "now"
    assert "rotationRequestedTime" not in status
    assert status["lastRotatedTime"]


@pytest.fixture(scope="module")
def pg_admin() -> Iterator[str]:
    with postgres(Path("/tmp")) as admin:
        yield admin


def test_the_url_connects_to_the_database_behind_the_endpoint(
    bed: Bed, pg_admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = psycopg.conninfo.conninfo_to_dict(pg_admin)
    dbname, role = f"auth_{uuid.uuid4().hex[:8]}", f"admin_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(PASSWORD)))
        admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(dbname), sql.Identifier(role)))
    where = f"{info.get('host') or '127.0.0.1'}:{info.get('port') or 5432}"
    db, name, target = unique("auth-db"), unique("auth-url"), unique("env")
    apply_database(bed, db, database_status(master_secret(bed, role, PASSWORD)), dbname=dbname)
    bed.apply(secret_doc(name, {"database": {"ref": db}}, target={"secretName": target, "key": "URL"}))
    with secrets_operator(bed, monkeypatch, endpoint_map={"*.rds.amazonaws.com": where}):
        ready(bed, name)
    value = kube_value(bed, target, "URL")
    assert value is not None
    with psycopg.connect(value, connect_timeout=5) as conn:
        found = conn.execute("SELECT current_user, current_database()").fetchone()
    assert found == (role, dbname)
