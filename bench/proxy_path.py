"""Benchmark: ``SELECT 1`` through the emulated RDS Proxy against the same server directly.

    .venv/bin/python bench/proxy_path.py [N]        (default N = 2000 round trips per side)

The bed's data plane (upskill_sandbox/dataplane.py) behind a moto server: one emulated Aurora cluster and an
RDS Proxy (master secret, ``IAMAuth: DISABLED``, ``RequireTLS``). The direct side is the master user
on the primary's unix socket; the proxy side the same user through the proxy's front (TLS with
verify-full, SCRAM against the secret, then a byte relay to that socket). Sync psycopg, one
connection per side, alternating in blocks. The connect time (TLS and SCRAM) is timed too. Figures
go to ``.bench/figures.json`` under ``proxy_path``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import psycopg

from upskill_operator.endpoints import map_file_entries
from upskill_operator.probes.window import quantile
from upskill_sandbox.aws import MotoServer, aws_env
from upskill_sandbox.dataplane import DataPlane

from common import load, print_table, ratios, record

REGION, BLOCKS = "us-east-1", 10


def _proxy(url: str) -> tuple[str, dict[str, str]]:
    """Create the cluster and its proxy; return the proxy's host and the master credentials."""
    rds = boto3.client("rds", endpoint_url=url, region_name=REGION)
    ec2 = boto3.client("ec2", endpoint_url=url, region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    cluster = rds.create_db_cluster(
        DBClusterIdentifier="bench-db",
        Engine="aurora-postgresql",
        MasterUsername="bench_admin",
        ManageMasterUserPassword=True,
        DatabaseName="benchdb",
    )["DBCluster"]
    arn = cluster["MasterUserSecret"]["SecretArn"]
    secrets = boto3.client("secretsmanager", endpoint_url=url, region_name=REGION)
    master = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    proxy = rds.create_db_proxy(
        DBProxyName="bench-proxy",
        EngineFamily="POSTGRESQL",
        Auth=[{"AuthScheme": "SECRETS", "SecretArn": arn, "IAMAuth": "DISABLED"}],
        RoleArn="arn:aws:iam::123456789012:role/bench-proxy",
        VpcSubnetIds=subnets,
        RequireTLS=True,
    )["DBProxy"]
    rds.register_db_proxy_targets(DBProxyName="bench-proxy", DBClusterIdentifiers=["bench-db"])
    return str(proxy["Endpoint"]), master


def _connect(conninfo: str, timeout: float = 30.0) -> tuple[psycopg.Connection[Any], float]:
    deadline = time.monotonic() + timeout
    while True:
        started = time.perf_counter()
        try:
            return psycopg.connect(conninfo, autocommit=True, prepare_threshold=None), time.perf_counter() - started
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _block(conn: psycopg.Connection[Any], n: int, into: list[float]) -> None:
    for _ in range(n):
        started = time.perf_counter()
        conn.execute(b"SELECT 1")
        into.append(time.perf_counter() - started)


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 2000
    before = load()
    with MotoServer() as aws, DataPlane(Path(tempfile.mkdtemp(prefix="upskill-bench-"))) as plane:
        os.environ.update(aws_env(aws.url, REGION))
        host, master = _proxy(aws.url)
        assert plane.backends is not None
        assert plane.tls is not None
        while host not in map_file_entries(str(plane.map_file)):
            time.sleep(0.1)
        address, _, port = map_file_entries(str(plane.map_file))[host].rpartition(":")
        common = {"user": master["username"], "password": master["password"], "dbname": "benchdb"}
        direct_info = psycopg.conninfo.make_conninfo(
            host=plane.backends.primary.host, port=plane.backends.primary.port, **common
        )
        proxy_info = psycopg.conninfo.make_conninfo(
            host=address, port=port, sslmode="verify-full", sslrootcert=str(plane.tls.ca), **common
        )
        direct, direct_connect = _connect(direct_info)
        proxied, proxy_connect = _connect(proxy_info)
        connects = {"direct": [direct_connect], "proxy": [proxy_connect]}
        for _ in range(20):
            for label, info in (("direct", direct_info), ("proxy", proxy_info)):
                conn, took = _connect(info)
                conn.close()
                connects[label].append(took)
        times: dict[str, list[float]] = {"direct": [], "proxy": []}
        for _ in range(BLOCKS):
            _block(direct, n // BLOCKS, times["direct"])
            _block(proxied, n // BLOCKS, times["proxy"])
        direct.close()
        proxied.close()
    after = load()

    def ms(values: list[float], q: float) -> float:
        return (quantile(values, q) or 0.0) * 1000

    def row(label: str, direct: float, proxy: float, digits: int = 3) -> list[str]:
        return [label, f"{direct:.{digits}f}", f"{proxy:.{digits}f}", *ratios(proxy, direct)]

    rows = [
        row(label, ms(times["direct"], q), ms(times["proxy"], q))
        for label, q in (("p50 SELECT 1 (ms)", 0.5), ("p99 SELECT 1 (ms)", 0.99))
    ]
    rows.append(row("p50 connect (ms)", ms(connects["direct"], 0.5), ms(connects["proxy"], 0.5), 2))
    print(f"{len(times['direct'])} SELECT 1 per side, alternating in {BLOCKS} blocks; load {before} -> {after}\n")
    print_table(["measure", "direct (socket)", "emulated proxy (TLS)", "proxy/direct", "direct/proxy"], rows)
    record(
        "proxy_path",
        {
            "p50_ratio": ms(times["proxy"], 0.5) / ms(times["direct"], 0.5),
            "p99_ratio": ms(times["proxy"], 0.99) / ms(times["direct"], 0.99),
            "direct_p50_ms": ms(times["direct"], 0.5),
            "proxy_p50_ms": ms(times["proxy"], 0.5),
        },
    )


if __name__ == "__main__":
    main(sys.argv[1:])
