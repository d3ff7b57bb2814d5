"""What gets probed and how the operator connects: endpoints, mapping, TLS, credentials, the table probe key.

AWS answers come from botocore's Stubber (validated against the service models); no network.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict

from upskill_operator.adapters.database.connection import connections, password_reader
from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.rds_passwords import RdsPasswords
from upskill_operator.aws.secretsmanager import SecretsManager
from upskill_operator.aws.session import AwsClients
from upskill_operator.config import AwsSettings, Settings
from upskill_operator.errors import RecoverableError, TerminalError
from upskill_operator.models.database import DatabaseSpec
from upskill_operator.models.table import TableSpec
from upskill_operator.probes.dynamodb import TableProber, table_probe_key
from upskill_operator.probes.plan import plan_for
from upskill_operator.probes.window import ProbeFailure

from unit.stubbed_aws import stubbed

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-abc-AbCdEf"
STATUS = {
    "endpoints": {
        "writer": "c.cluster-x.us-east-1.rds.amazonaws.com",
        "reader": "c.cluster-ro-x.us-east-1.rds.amazonaws.com",
        "proxy": "p.proxy-x.us-east-1.rds.amazonaws.com",
        "proxyReadOnly": "ro.endpoint.proxy-x.us-east-1.rds.amazonaws.com",
    },
    "port": 5432,
    "masterUserSecretArn": ARN,
}


def spec(**changes: Any) -> DatabaseSpec:
    body: dict[str, Any] = {
        "engineVersion": "16.4",
        "databaseName": "course",
        "capacity": {"provisioned": {"instanceClass": "db.t4g.medium", "readReplicas": 1}},
        "network": {"subnetIds": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]},
        "proxy": {"readOnlyEndpoint": True},
    }
    body.update(changes)
    return DatabaseSpec.model_validate(body)


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials: IAM auth tokens are signed locally, so they are all a token needs."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def clients() -> AwsClients:
    return AwsClients(AwsSettings(region="us-east-1", max_attempts=1, calls_per_second={}))


def test_proxy_endpoints_in_order_with_tls_and_an_iam_token_for_the_aws_host() -> None:
    found = connections(spec(), STATUS, Settings(), clients())
    assert [c.label for c in found] == ["proxy", "proxyReadOnly"]
    info = conninfo_to_dict(found[0].conninfo)
    assert (info["host"], info["port"], info["dbname"], info["user"], info["sslmode"]) == (
        STATUS["endpoints"]["proxy"],  # type: ignore[index]
        "5432",
        "course",
        "upskill_admin",
        "require",
    )
    assert "password" not in info
    token = found[0].password_kwargs()["password"]
    assert token.startswith(f"{STATUS['endpoints']['proxy']}:5432/?Action=connect&DBUser=upskill_admin")  # type: ignore[index]
    assert token not in repr(found[0])


def test_without_a_proxy_the_cluster_endpoints_and_the_master_password_are_used() -> None:
    aws = clients()
    secrets, stub = stubbed(SecretsManager, aws)
    stub.add_response(
        "get_secret_value",
        {"ARN": ARN, "Name": "rds!cluster-abc", "VersionId": "v1" * 16, "SecretString": json.dumps({"password": "pw"})},
        {"SecretId": ARN},
    )
    found = connections(spec(proxy={"enabled": False}), STATUS, Settings(), aws)
    assert [c.label for c in found] == ["writer", "reader"]
    assert conninfo_to_dict(found[0].conninfo)["sslmode"] == "prefer"
    assert found[0].password_kwargs() == {"password": "pw"}
    assert found[1].password_kwargs() == {"password": "pw"}  # cached: one GetSecretValue
    stub.assert_no_pending_responses()
    del secrets


def test_endpoint_map_sends_aws_names_elsewhere_and_keeps_tokens_for_the_aws_name() -> None:
    settings = Settings(endpoint_map={"*.rds.amazonaws.com": "/tmp/pg:5433"})
    (proxy,) = connections(spec(), STATUS, settings, clients(), labels=("proxy",))
    info = conninfo_to_dict(proxy.conninfo)
    assert (info["host"], info["port"], info["sslmode"]) == ("/tmp/pg", "5433", "prefer")
    assert proxy.aws_host == STATUS["endpoints"]["proxy"]  # type: ignore[index]
    assert proxy.password_kwargs()["password"].startswith(proxy.aws_host)


def test_no_endpoints_yet_means_nothing_to_connect_to_and_no_secret_means_wait() -> None:
    assert connections(spec(), {}, Settings(), clients()) == []
    with pytest.raises(RecoverableError, match="masterUserSecretArn"):
        connections(spec(proxy={"iamAuth": "Disabled"}), {**STATUS, "masterUserSecretArn": None}, Settings(), clients())


def cluster(owner: str, secret_arn: str) -> dict[str, Any]:
    """DescribeDBClusters' answer for cluster ``c``: its owner tag and the master secret RDS manages for it."""
    return {
        "DBClusters": [
            {
                "DBClusterIdentifier": "c",
                "TagList": [{"Key": "upskill.io/owner", "Value": owner}],
                "MasterUserSecret": {"SecretArn": secret_arn, "SecretStatus": "active"},
            }
        ]
    }


def test_given_its_owner_the_password_comes_from_the_secret_rds_names_for_its_own_cluster() -> None:
    aws = clients()
    _, rds = stubbed(RdsPasswords, aws)
    _, sm = stubbed(SecretsManager, aws)
    own = ARN.replace("abc", "own")
    rds.add_response("describe_db_clusters", cluster("team/db", own), {"DBClusterIdentifier": "c"})
    sm.add_response(
        "get_secret_value",
        {"ARN": own, "VersionId": "v3" * 16, "SecretString": json.dumps({"password": "own-pw"})},
        {"SecretId": own},  # not status.masterUserSecretArn, which names another secret
    )
    status = {**STATUS, "clusterIdentifier": "c"}
    (writer,) = connections(spec(proxy={"enabled": False}), status, Settings(), aws, ("writer",), owner="team/db")
    assert writer.password_kwargs() == {"password": "own-pw"}
    rds.assert_no_pending_responses()
    sm.assert_no_pending_responses()


def test_a_cluster_of_another_owner_is_refused_before_any_secret_is_read() -> None:
    aws = clients()
    _, rds = stubbed(RdsPasswords, aws)
    _, sm = stubbed(SecretsManager, aws)  # no response queued: a GetSecretValue would fail the test
    rds.add_response("describe_db_clusters", cluster("victim/db", ARN), {"DBClusterIdentifier": "c"})
    status = {**STATUS, "clusterIdentifier": "c"}
    (writer,) = connections(spec(proxy={"enabled": False}), status, Settings(), aws, ("writer",), owner="team/db")
    with pytest.raises(TerminalError, match="owned by 'victim/db', not team/db") as caught:
        writer.password_kwargs()
    assert caught.value.reason == "ForeignOwner"
    sm.assert_no_pending_responses()
    with pytest.raises(RecoverableError, match="clusterIdentifier"):
        connections(spec(proxy={"enabled": False}), STATUS, Settings(), aws, owner="team/db")


def test_a_master_secret_without_a_password_is_terminal() -> None:
    aws = clients()
    _, stub = stubbed(SecretsManager, aws)
    stub.add_response(
        "get_secret_value",
        {"ARN": ARN + "2", "VersionId": "v2" * 16, "SecretString": "not json"},
        {"SecretId": ARN + "2"},
    )
    with pytest.raises(Exception, match="password") as caught:
        password_reader(aws, ARN + "2")()
    assert "not json" not in str(caught.value)


def test_table_probe_key_matches_the_key_schema_types() -> None:
    table = TableSpec.model_validate(
        {"keys": {"partition": {"name": "id", "type": "N"}, "sort": {"name": "b", "type": "B"}}}
    )
    assert table_probe_key(table) == {"id": {"N": "0"}, "b": {"B": b"upskill-probe"}}


async def test_the_table_probe_times_a_get_item_and_maps_errors() -> None:
    ddb, stub = stubbed(DynamoDB)
    key = {"pk": {"S": "upskill-probe"}}
    stub.add_response("get_item", {}, {"TableName": "t", "Key": key, "ConsistentRead": False})
    stub.add_client_error("get_item", "ResourceNotFoundException", "Requested resource not found", 400)
    stub.add_client_error("get_item", "AccessDeniedException", "not allowed", 400)
    prober = TableProber(ddb, "t", key)

    assert 0 < await prober.probe() < 5
    with pytest.raises(ProbeFailure) as missing:
        await prober.probe()
    assert missing.value.reason == "unavailable"
    with pytest.raises(ProbeFailure) as denied:
        await prober.probe()
    assert denied.value.reason == "auth"
    stub.assert_no_pending_responses()


def test_plans_need_spec_probe_unless_forced_and_something_to_reach() -> None:
    body = {"spec": {"keys": {"partition": {"name": "pk", "type": "S"}}}, "status": {"tableName": "t"}}
    settings, aws = Settings(), clients()
    assert plan_for("UpskillTable", body, settings, aws) is None
    forced = plan_for("UpskillTable", body, settings, aws, force=True)
    assert forced is not None
    assert forced.settings.slo_seconds == 0.1
    probed = {**body, "spec": {**body["spec"], "probe": {"intervalSeconds": 10, "sloMilliseconds": 250}}}
    plan = plan_for("UpskillTable", probed, settings, aws)
    assert plan is not None
    assert (plan.settings.interval_seconds, plan.settings.slo_seconds, plan.settings.timeout_seconds) == (10, 0.25, 5)
    assert plan_for("UpskillTable", {**probed, "status": {}}, settings, aws) is None  # no table yet
    assert plan_for("UpskillTable", {"spec": {"keys": "broken"}}, settings, aws, force=True) is None


def test_a_ca_bundle_turns_on_certificate_verification_mapped_hosts_included() -> None:
    settings = Settings(db_ca_bundle="/etc/rds/global-bundle.pem")
    (proxy,) = connections(spec(), STATUS, settings, clients(), labels=("proxy",))
    info = conninfo_to_dict(proxy.conninfo)
    assert (info["sslmode"], info["sslrootcert"]) == ("verify-full", "/etc/rds/global-bundle.pem")
    mapped = settings.model_copy(update={"endpoint_map": {"*": "127.0.0.1:5432"}})
    (tunnel,) = connections(spec(), STATUS, mapped, clients(), labels=("proxy",))
    tunnelled = conninfo_to_dict(tunnel.conninfo)
    assert (tunnelled["sslmode"], tunnelled["sslrootcert"]) == ("verify-full", "/etc/rds/global-bundle.pem")
    bare = settings.model_copy(update={"endpoint_map": {"*": "127.0.0.1:5432"}, "db_ca_bundle": None})
    (plain,) = connections(spec(), STATUS, bare, clients(), labels=("proxy",))
    assert conninfo_to_dict(plain.conninfo)["sslmode"] == "prefer"
