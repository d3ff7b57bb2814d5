"""A database URL's rotation against the bed's own RDS rotation: the cluster stays, the URL follows.

The whole operator runs (databases and secrets) with every emulated cluster backed by a real
database (the sandbox's ClusterBacker), as in ``make sandbox``. Nothing answers for RDS here: the
operator's ModifyDBCluster(RotateMasterUserPassword) reaches the bed's RDS extension, which checks
the request before it applies anything and writes the new master password as RDS does
(:mod:`upskill_sandbox.rds_rotation`). In the sandbox this request used to remove the
emulated cluster, which the operator then re-created empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from prometheus_client import REGISTRY

from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import Bed, condition, wait_for
from e2e.db_support import Aws, backed_operator, cleanup, cluster_id, db_doc
from e2e.db_support import ready as db_ready
from e2e.secret_support import kube_value, ready, secret_doc, unique

pytestmark = pytest.mark.e2e


@pytest.fixture
def operator(bed: Bed, pg_url: str) -> Iterator[OperatorThread]:
    aws = bed.settings.aws.model_copy(update={"calls_per_second": {}})
    fast = {"resync_seconds": 1.0, "secret_tick_seconds": 1.0, "aws": aws}
    with backed_operator(bed, pg_url, **fast) as running:
        yield running
        cleanup(bed)


def modify_calls(outcome: str) -> float:
    labels = {"service": "rds", "operation": "ModifyDBCluster", "outcome": outcome}
    return REGISTRY.get_sample_value("upskill_aws_api_call_duration_seconds_count", labels) or 0.0


def test_rotating_a_database_url_keeps_the_cluster_and_follows_the_new_password(
    bed: Bed, operator: OperatorThread, pg_url: str
) -> None:
    aws, db, name = Aws(bed), unique("rot-db"), unique("rot-url")
    user = f"app_admin_{uuid.uuid4().hex[:6]}"  # the test server checks every password (SCRAM)
    bed.apply(db_doc("auth", db, databaseName=f"rot_{uuid.uuid4().hex[:6]}", masterUser={"username": user}))
    before = db_ready(bed, db, timeout=90)["status"]
    doc = secret_doc(
        name, {"database": {"ref": db, "endpoint": "writer"}}, target={"secretName": f"{name}-env", "key": "URL"}
    )
    bed.apply(doc)
    ready(bed, name, timeout=60)
    old_url = kube_value(bed, f"{name}-env", "URL")
    assert old_url
    created = aws.rds.describe_db_clusters(DBClusterIdentifier=cluster_id(db))["DBClusters"][0]["ClusterCreateTime"]
    failed = modify_calls("retryable_error") + modify_calls("client_error") + modify_calls("error")

    bed.apply({**doc, "metadata": {**doc["metadata"], "annotations": {"upskill.io/rotate": "now"}}})
    new_url = wait_for(
        lambda: (found := kube_value(bed, f"{name}-env", "URL")) != old_url and found, 60, "the rotated URL"
    )

    (cluster,) = aws.rds.describe_db_clusters(DBClusterIdentifier=cluster_id(db))["DBClusters"]
    assert (cluster["DBClusterArn"], cluster["ClusterCreateTime"]) == (before["clusterArn"], created)  # the same one
    stages = bed.boto("secretsmanager").list_secret_version_ids(SecretId=before["masterUserSecretArn"])["Versions"]
    assert sorted(s for v in stages for s in v["VersionStages"]) == ["AWSCURRENT", "AWSPREVIOUS"]
    database = db_ready(bed, db)
    assert condition(database, "Terminal").get("status") != "True"
    assert modify_calls("retryable_error") + modify_calls("client_error") + modify_calls("error") == failed
    with psycopg.connect(new_url, connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (user,)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(old_url, connect_timeout=5)
