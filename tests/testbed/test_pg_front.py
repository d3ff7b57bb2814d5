"""The emulated RDS data plane refuses what RDS refuses: real psycopg clients against the fronts.

One emulated cluster (IAM database authentication on) with a writer and a reader, and an RDS Proxy
whose Auth holds the master secret (``IAMAuth: DISABLED``) and an application user's secret
(``REQUIRED``), plus a READ_ONLY proxy endpoint; everything created through boto3 on the moto
server, the servers behind them real (SCRAM only, a streaming standby).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from psycopg import sql

from upskill_operator.endpoints import map_file_entries
from upskill_sandbox.aws import MotoServer, aws_env
from upskill_sandbox.dataplane import DataPlane

REGION = "us-east-1"
APP_USER, APP_PASSWORD = "progress_worker", "app-password-1234567890"


@dataclass
class Bed:
    plane: DataPlane
    rds: Any
    cluster: dict[str, Any]
    master: dict[str, str]
    proxy_host: str
    read_only_host: str

    def address(self, host: str, timeout: float = 20.0) -> tuple[str, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            target = map_file_entries(str(self.plane.map_file)).get(host.lower())
            if target:
                name, _, port = target.rpartition(":")
                return name, int(port)
            time.sleep(0.1)
        raise AssertionError(f"no front for {host}")

    def conninfo(self, host: str, user: str, password: str, **extra: str) -> str:
        name, port = self.address(host)
        assert self.plane.tls is not None
        params = {"sslmode": "verify-full", "sslrootcert": str(self.plane.tls.ca), **extra}
        return psycopg.conninfo.make_conninfo(
            host=name, port=port, user=user, password=password, dbname="frontdb", connect_timeout=5, **params
        )

    def token(self, host: str, user: str) -> str:
        name, port = self.address(host)
        return str(self.rds.generate_db_auth_token(DBHostname=name, Port=port, DBUsername=user, Region=REGION))


def _wait(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
            if found:
                return found
        except Exception:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def bed(server: MotoServer, tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: Any) -> Iterator[Bed]:
    for key, value in aws_env(server.url, REGION).items():
        monkeypatch_module.setenv(key, value)
    rds = boto3.client("rds", endpoint_url=server.url, region_name=REGION)
    secrets = boto3.client("secretsmanager", endpoint_url=server.url, region_name=REGION)
    ec2 = boto3.client("ec2", endpoint_url=server.url, region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    with DataPlane(Path(tmp_path_factory.mktemp("front"))) as plane:
        cluster = rds.create_db_cluster(
            DBClusterIdentifier="front-db",
            Engine="aurora-postgresql",
            EngineVersion="16.4",
            MasterUsername="front_admin",
            ManageMasterUserPassword=True,
            DatabaseName="frontdb",
            EnableIAMDatabaseAuthentication=True,
        )["DBCluster"]
        for ident in ("front-db-1", "front-db-2"):
            rds.create_db_instance(
                DBInstanceIdentifier=ident,
                DBClusterIdentifier="front-db",
                Engine="aurora-postgresql",
                DBInstanceClass="db.t4g.medium",
            )
        master_arn = cluster["MasterUserSecret"]["SecretArn"]
        master = json.loads(secrets.get_secret_value(SecretId=master_arn)["SecretString"])
        app = secrets.create_secret(
            Name="front-app", SecretString=json.dumps({"username": APP_USER, "password": APP_PASSWORD})
        )
        assert plane.backends is not None
        admin = plane.backends.admin_conninfo()
        _wait(lambda: psycopg.connect(admin, dbname="frontdb").close() or True)  # the backer made the database
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(APP_USER), sql.Literal(APP_PASSWORD))
            )
        proxy = rds.create_db_proxy(
            DBProxyName="front-proxy",
            EngineFamily="POSTGRESQL",
            Auth=[
                {"AuthScheme": "SECRETS", "SecretArn": master_arn, "IAMAuth": "DISABLED"},
                {"AuthScheme": "SECRETS", "SecretArn": app["ARN"], "IAMAuth": "REQUIRED"},
            ],
            RoleArn="arn:aws:iam::123456789012:role/front-proxy",
            VpcSubnetIds=subnets,
            RequireTLS=True,
        )["DBProxy"]
        rds.register_db_proxy_targets(DBProxyName="front-proxy", DBClusterIdentifiers=["front-db"])
        read_only = rds.create_db_proxy_endpoint(
            DBProxyName="front-proxy",
            DBProxyEndpointName="front-ro",
            VpcSubnetIds=subnets,
            TargetRole="READ_ONLY",
        )["DBProxyEndpoint"]
        yield Bed(plane, rds, cluster, master, proxy["Endpoint"], read_only["Endpoint"])


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _login(conninfo: str) -> str:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT current_user").fetchone()
        assert row is not None
        return str(row[0])


def _refused(conninfo: str) -> str:
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect(conninfo).close()
    return str(caught.value)


def test_every_endpoint_gets_a_local_tls_listener_in_the_map_file(bed: Bed) -> None:
    hosts = [bed.cluster["Endpoint"], bed.cluster["ReaderEndpoint"], bed.proxy_host, bed.read_only_host]
    for host in hosts:
        name, port = bed.address(host)
        assert name == "127.0.0.1"
        assert port > 0


def test_the_writer_checks_passwords_and_refuses_plain_connections(bed: Bed) -> None:
    user, password = bed.master["username"], bed.master["password"]
    assert _login(bed.conninfo(bed.cluster["Endpoint"], user, password)) == user
    assert "password authentication failed" in _refused(bed.conninfo(bed.cluster["Endpoint"], user, "wrong"))
    assert "SSL off" in _refused(bed.conninfo(bed.cluster["Endpoint"], user, password, sslmode="disable"))


def test_the_reader_is_a_standby_that_refuses_writes(bed: Bed) -> None:
    info = bed.conninfo(bed.cluster["ReaderEndpoint"], bed.master["username"], bed.master["password"])
    # The database is made on the primary; the standby has it once it has replayed that far (replica
    # lag, as on Aurora), which a loaded machine can stretch past the first attempt.
    with _wait(lambda: psycopg.connect(info)) as conn:
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        assert row is not None
        assert row[0] is True
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE nope (id int)")


def test_a_disabled_entry_takes_the_secret_password_and_nothing_else(bed: Bed) -> None:
    user = bed.master["username"]
    assert _login(bed.conninfo(bed.proxy_host, user, bed.master["password"])) == user
    assert "password authentication failed" in _refused(bed.conninfo(bed.proxy_host, user, "wrong"))
    assert "password authentication failed" in _refused(
        bed.conninfo(bed.proxy_host, user, bed.token(bed.proxy_host, user))
    )


def test_a_required_entry_takes_a_valid_token_only(bed: Bed) -> None:
    assert _login(bed.conninfo(bed.proxy_host, APP_USER, bed.token(bed.proxy_host, APP_USER))) == APP_USER
    assert "IAM" in _refused(bed.conninfo(bed.proxy_host, APP_USER, APP_PASSWORD))
    other = bed.token(bed.proxy_host, bed.master["username"])
    assert "IAM" in _refused(bed.conninfo(bed.proxy_host, APP_USER, other))
    tls_off = bed.conninfo(bed.proxy_host, APP_USER, APP_PASSWORD, sslmode="disable")
    assert "requires TLS" in _refused(tls_off)


def test_an_unknown_user_is_refused_by_the_proxy(bed: Bed) -> None:
    assert "Auth" in _refused(bed.conninfo(bed.proxy_host, "nobody", "whatever"))


def test_the_read_only_proxy_endpoint_reaches_the_standby(bed: Bed) -> None:
    info = bed.conninfo(bed.read_only_host, bed.master["username"], bed.master["password"])
    with psycopg.connect(info) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("CREATE TABLE nope (id int)")
