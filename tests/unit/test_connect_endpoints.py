"""Endpoints found in delivered values, and the values rewritten to the local tunnels."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from upskill_operator.commands.connect_endpoints import Endpoint, endpoints, region_of, rewrite

HOST = "auth-db.proxy-abc.us-east-1.rds.amazonaws.com"
RO_HOST = "auth-db-ro.endpoint.proxy-abc.us-east-1.rds.amazonaws.com"
VALUES = {
    "AUTH_DB_URL": f"postgresql://better_auth:p%40ss@{HOST}:5432/auth?sslmode=verify-full&sslrootcert=/etc/ca.pem",
    "READ_URL": f"postgres://u:p@{RO_HOST}/auth?sslmode=require&application_name=web",
    "PGHOST": HOST,
    "PGPORT": "5432",
    "PGSSLROOTCERT": "/etc/ca.pem",
    "W_PGHOST": RO_HOST,
    "TABLE_NAME": "upskill-notifications",
}


def test_endpoints_from_urls_and_pg_keys() -> None:
    assert endpoints(VALUES) == sorted([Endpoint(HOST, 5432), Endpoint(RO_HOST, 5432)])
    assert endpoints({"PGHOST": "/var/run/postgresql"}) == [], "a unix socket is no endpoint"


def test_rewrite_points_at_the_tunnels_and_keeps_verify_full() -> None:
    ports = {Endpoint(HOST, 5432): 40001, Endpoint(RO_HOST, 5432): 40002}
    out = rewrite(VALUES, ports, "/home/dev/app/.env.local.upskill-ca.pem")
    url = urlsplit(out["AUTH_DB_URL"])
    assert (url.hostname, url.port, url.username, url.password) == ("127.0.0.1", 40001, "better_auth", "p%40ss")
    assert url.path == "/auth"
    assert parse_qs(url.query) == {
        "sslmode": ["verify-full"],
        "sslrootcert": ["/home/dev/app/.env.local.upskill-ca.pem"],
    }
    read = urlsplit(out["READ_URL"])
    assert read.port == 40002
    assert parse_qs(read.query)["sslmode"] == ["verify-full"], "require becomes verify-full, never weaker"
    assert parse_qs(read.query)["application_name"] == ["web"]
    assert (out["PGHOST"], out["PGPORT"], out["PGSSLMODE"]) == ("127.0.0.1", "40001", "verify-full")
    assert out["PGSSLROOTCERT"] == "/home/dev/app/.env.local.upskill-ca.pem"
    assert (out["W_PGHOST"], out["W_PGPORT"]) == ("127.0.0.1", "40002")
    assert out["TABLE_NAME"] == VALUES["TABLE_NAME"]


def test_an_endpoint_without_a_tunnel_is_left_alone() -> None:
    assert rewrite(VALUES, {}, "/x") == VALUES


def test_region_from_a_delivered_key_else_the_rds_host() -> None:
    assert region_of({"NOTIFICATIONS_AWS_REGION": "eu-west-1", **VALUES}) == "eu-west-1"
    assert region_of(VALUES) == "us-east-1"
    assert region_of({"A": "b"}) is None
