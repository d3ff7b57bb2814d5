"""Application users end to end: the operator creates the role, rotates its password safely, repairs it.

A real PostgreSQL (embedded, or ``DATABASE_URL``) plays the cluster behind the UpskillDatabase's
writer endpoint (mapped with ``endpoint_map``), and checks the passwords of ``app_*`` roles
(the test server checks every login with SCRAM), so "the stored password works" is PostgreSQL's verdict, not ours.
The UpskillDatabase object's status is written by the test (no database controller runs).
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
from psycopg.conninfo import conninfo_to_dict

from upskill_sandbox.operator_thread import OperatorThread
from upskill_sandbox.postgres import postgres

from e2e.conftest import API, NAMESPACE, Bed, wait_for
from e2e.secret_support import (
    PLURAL,
    apply_database,
    aws_name,
    aws_value,
    database_status,
    debug_logs,
    everything_visible,
    forms,
    kube_value,
    master_secret,
    ready,
    secret_doc,
    secrets_operator,
    terminal,
    unique,
    versions,
)

pytestmark = pytest.mark.e2e

MASTER_PASSWORD = "master-Pw-1"


@pytest.fixture(scope="module")
def pg_admin() -> Iterator[str]:
    with postgres(Path("/tmp")) as admin:
        yield admin


@pytest.fixture
def cluster(bed: Bed, pg_admin: str) -> Iterator[dict[str, str]]:
    """A database and master role on the server, an UpskillDatabase pointing at it; the app role's name."""
    dbname, master, role = (f"{p}_{uuid.uuid4().hex[:8]}" for p in ("auth", "admin", "app_web"))
    with psycopg.connect(pg_admin, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(
                sql.Identifier(master), sql.Literal(MASTER_PASSWORD)
            )
        )
        admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(dbname), sql.Identifier(master)))
    db = unique("auth-db")
    apply_database(bed, db, database_status(master_secret(bed, master, MASTER_PASSWORD)), dbname=dbname)
    yield {"db": db, "dbname": dbname, "master": master, "role": role}
    for obj in bed.kube.list(API, PLURAL, NAMESPACE):  # nothing keeps reconciling a dropped database
        if ((obj["spec"].get("source") or {}).get("database") or {}).get("ref") in (db, f"{db}-m"):
            bed.delete(PLURAL, obj["metadata"]["name"])
    with psycopg.connect(pg_admin, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        for name in (role, master):
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture
def operator(bed: Bed, pg_admin: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[OperatorThread]:
    info = conninfo_to_dict(pg_admin)
    where = f"{info.get('host') or '127.0.0.1'}:{info.get('port') or 5432}"
    with secrets_operator(bed, monkeypatch, endpoint_map={"*.rds.amazonaws.com": where}) as running:
        yield running


def app_secret(name: str, cluster: dict[str, str], **spec: Any) -> dict[str, Any]:
    source = {"database": {"ref": cluster["db"], "endpoint": "writer", "user": cluster["role"]}}
    target = {"secretName": f"{name}-env", "key": "DATABASE_URL"}
    return secret_doc(name, source, target=target, **spec)


def logs_in(url: str) -> tuple[str, str] | None:
    """(current_user, current_database) through the URL, or None when the login is refused."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT current_user, current_database()").fetchone()
    except psycopg.OperationalError:
        return None
    return (str(row[0]), str(row[1])) if row else None


def set_password(pg_admin: str, role: str, password: str) -> None:
    """Change a role's password behind the operator's back."""
    with psycopg.connect(pg_admin, autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))


def stages(bed: Bed, name: str) -> list[list[str]]:
    return sorted(sorted(v.get("VersionStages") or []) for v in versions(bed, name))


def test_the_operator_creates_the_role_and_apps_log_in_with_the_url(
    bed: Bed, operator: OperatorThread, cluster: dict[str, str]
) -> None:
    name = unique("app-url")
    bed.apply(app_secret(name, cluster))
    status = ready(bed, name)["status"]
    url = kube_value(bed, f"{name}-env", "DATABASE_URL")
    assert url is not None
    assert url.startswith("postgresql://")
    assert logs_in(url) == (cluster["role"], cluster["dbname"])
    record = json.loads(aws_value(bed, name))  # the credential record RDS Proxy and rotation functions read
    assert (record["username"], record["url"], record["engine"]) == (cluster["role"], url, "postgres")
    assert stages(bed, name) == [["AWSCURRENT"]]
    assert status["versionId"]
    assert "password" not in json.dumps(status)


def test_manual_rotation_sets_the_new_password_before_apps_read_it(
    bed: Bed, operator: OperatorThread, cluster: dict[str, str]
) -> None:
    name = unique("app-rot")
    doc = app_secret(name, cluster)
    bed.apply(doc)
    ready(bed, name)
    old = kube_value(bed, f"{name}-env", "DATABASE_URL")
    assert old is not None
    doc["metadata"]["annotations"] = {"upskill.io/rotate": "now"}
    bed.apply(doc)
    wait_for(lambda: bed.get(PLURAL, name)["status"].get("rotationRequest") == "now", 30, "rotation answered")
    new = wait_for(lambda: (v := kube_value(bed, f"{name}-env", "DATABASE_URL")) != old and v, 20, "new URL synced")
    assert logs_in(new) == (cluster["role"], cluster["dbname"])
    assert logs_in(old) is None  # the old password no longer works
    assert stages(bed, name) == [["AWSCURRENT"], ["AWSPREVIOUS"]]  # no AWSPENDING left behind


def test_a_password_changed_behind_our_back_is_set_back_without_a_new_version(
    bed: Bed, operator: OperatorThread, cluster: dict[str, str], pg_admin: str
) -> None:
    name = unique("app-fix")
    bed.apply(app_secret(name, cluster))
    ready(bed, name)
    url = kube_value(bed, f"{name}-env", "DATABASE_URL")
    assert url is not None
    set_password(pg_admin, cluster["role"], "someone-else")
    assert logs_in(url) is None
    wait_for(lambda: logs_in(url) is not None, 30, "the stored password works again")
    assert len(versions(bed, name)) == 1


def test_after_a_crash_between_setting_and_promoting_the_pending_password_is_promoted(
    bed: Bed, operator: OperatorThread, cluster: dict[str, str], pg_admin: str
) -> None:
    """The state a crash leaves after steps 1 and 2 of a rotation: AWSPENDING set on the role, not current."""
    name = unique("app-crash")
    bed.apply(app_secret(name, cluster))
    ready(bed, name)
    record = json.loads(aws_value(bed, name))
    password = f"Pending{uuid.uuid4().hex}"  # letters and digits: the same in the URL
    pending = {**record, "password": password, "url": record["url"].replace(record["password"], password)}
    sm = bed.boto("secretsmanager")
    token = str(uuid.uuid4())
    sm.put_secret_value(
        SecretId=aws_name(name),
        SecretString=json.dumps(pending),
        ClientRequestToken=token,
        VersionStages=["AWSPENDING"],
    )
    set_password(pg_admin, cluster["role"], password)
    wait_for(
        lambda: sm.describe_secret(SecretId=aws_name(name))["VersionIdsToStages"].get(token) == ["AWSCURRENT"],
        30,
        "promoted",
    )
    new = wait_for(lambda: (v := kube_value(bed, f"{name}-env", "DATABASE_URL")) != record["url"] and v, 20, "synced")
    assert logs_in(new) == (cluster["role"], cluster["dbname"])
    assert len(versions(bed, name)) == 2  # the operator wrote no version of its own


def test_naming_the_master_user_is_refused(bed: Bed, operator: OperatorThread, cluster: dict[str, str]) -> None:
    name = unique("app-master")
    bed.apply(app_secret(name, {**cluster, "role": "app_" + cluster["master"]}))  # a valid name, not the master
    ready(bed, name)
    master = unique("app-master")
    apply_database(
        bed, f"{cluster['db']}-m", database_status(master_secret(bed, "app_owner", MASTER_PASSWORD)), cluster["dbname"]
    )
    doc = secret_doc(master, {"database": {"ref": f"{cluster['db']}-m", "endpoint": "writer", "user": "app_owner"}})
    bed.apply(doc)
    message = terminal(bed, master)["status"]["conditions"]
    assert any("app_owner is the master user" in (c.get("message") or "") for c in message)


def test_no_password_leaks_through_an_app_user_lifecycle(
    bed: Bed, cluster: dict[str, str], pg_admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = conninfo_to_dict(pg_admin)
    where = f"{info.get('host') or '127.0.0.1'}:{info.get('port') or 5432}"
    name = unique("app-leak")
    values = [MASTER_PASSWORD]
    with debug_logs() as capture, secrets_operator(bed, monkeypatch, endpoint_map={"*.rds.amazonaws.com": where}):
        doc = app_secret(name, cluster)
        bed.apply(doc)
        ready(bed, name)
        values.append(json.loads(aws_value(bed, name))["password"])
        doc["metadata"]["annotations"] = {"upskill.io/rotate": "now"}
        bed.apply(doc)
        wait_for(lambda: bed.get(PLURAL, name)["status"].get("rotationRequest") == "now", 30, "rotated")
        values.append(json.loads(aws_value(bed, name))["password"])
        set_password(pg_admin, cluster["role"], "x-Behind-1")  # a repair, too
        url = kube_value(bed, f"{name}-env", "DATABASE_URL")
        assert url is not None
        wait_for(lambda: logs_in(url) is not None, 30, "repaired")
    assert len(set(values)) == 3
    visible = everything_visible(bed, capture)
    for value in values:
        for form in forms(value):
            for where_, text in visible.items():
                assert form not in text, f"a password leaked into {where_}"
