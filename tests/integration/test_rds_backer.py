"""The sandbox's backing databases: every emulated cluster's endpoints reach a real PostgreSQL database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from upskill_operator.endpoints import resolve
from upskill_sandbox.aws import MotoServer, Seed
from upskill_sandbox.postgres import postgres
from upskill_sandbox.rds_backer import ClusterBacker

from integration.conftest import REGION


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with postgres(Path(tmp_path_factory.mktemp("pg"))) as url:
        yield url


def create(moto: MotoServer, seed: Seed, name: str, database: str, user: str = "backer_admin") -> dict[str, Any]:
    rds = moto.client("rds", REGION)
    if not rds.describe_db_subnet_groups()["DBSubnetGroups"]:
        rds.create_db_subnet_group(DBSubnetGroupName="g", DBSubnetGroupDescription="d", SubnetIds=list(seed.subnet_ids))
    found: dict[str, Any] = rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        DatabaseName=database,
        MasterUsername=user,
        ManageMasterUserPassword=True,
        DBSubnetGroupName="g",
    )["DBCluster"]
    return found


def credentials(moto: MotoServer, cluster: dict[str, Any]) -> dict[str, str]:
    secret = moto.client("secretsmanager", REGION).get_secret_value(SecretId=cluster["MasterUserSecret"]["SecretArn"])
    value: dict[str, str] = json.loads(secret["SecretString"])
    return value


def connect(
    backer: ClusterBacker, host: str, port: int, user: dict[str, str], database: str
) -> psycopg.Connection[Any]:
    real_host, real_port = resolve(host, port, backer.endpoint_map())
    return psycopg.connect(
        host=real_host, port=real_port, user=user["username"], password=user["password"], dbname=database
    )


def test_each_cluster_is_backed_and_reachable_through_its_endpoints(moto: MotoServer, seed: Seed, pg_url: str) -> None:
    backer = ClusterBacker(pg_url)
    first = create(moto, seed, "backed-one", "backed_one")
    second = create(moto, seed, "backed-two", "backed_two")
    assert {b.identifier for b in backer.sync()} == {"backed-one", "backed-two"}
    assert backer.sync() == []  # idempotent

    one, two = credentials(moto, first), credentials(moto, second)
    assert one == two  # one server, one role: the later cluster's secret now holds the role's password
    for host in (first["Endpoint"], first["ReaderEndpoint"]):
        with connect(backer, host, first["Port"], one, "backed_one") as conn:
            assert conn.execute("SELECT current_database(), current_user").fetchone() == ("backed_one", "backer_admin")
    with connect(backer, second["Endpoint"], 5432, two, "backed_two") as conn:
        owner = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'backed_two'").fetchone()
        assert owner == ("backer_admin",)

    moto.client("rds", REGION).delete_db_cluster(DBClusterIdentifier="backed-two", SkipFinalSnapshot=True)
    backer.sync()
    with psycopg.connect(pg_url) as admin:
        names = {r[0] for r in admin.execute("SELECT datname FROM pg_database").fetchall()}
    assert "backed_one" in names
    assert "backed_two" not in names


def test_a_rotated_master_password_is_set_on_the_role(moto: MotoServer, seed: Seed, pg_url: str) -> None:
    backer = ClusterBacker(pg_url)
    cluster = create(moto, seed, "backed-rotated", "backed_rotated", user="app_rotated")
    backer.sync()
    before = credentials(moto, cluster)
    moto.client("rds", REGION).modify_db_cluster(
        DBClusterIdentifier="backed-rotated", RotateMasterUserPassword=True, ApplyImmediately=True
    )
    backer.sync()
    after = credentials(moto, cluster)
    assert after["password"] != before["password"]  # the backer kept RDS's new password, not the role's old one
    with connect(backer, cluster["Endpoint"], 5432, after, "backed_rotated") as conn:  # the server checks SCRAM
        assert conn.execute("SELECT current_user").fetchone() == ("app_rotated",)
    with pytest.raises(psycopg.OperationalError):
        connect(backer, cluster["Endpoint"], 5432, before, "backed_rotated")
