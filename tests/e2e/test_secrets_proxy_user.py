"""An application user through the RDS Proxy, end to end: the database registers the user's secret.

The whole operator runs (databases and secrets) against moto and the emulated Kubernetes API; the
sandbox's ClusterBacker puts a real database on the test PostgreSQL behind the emulated cluster,
and ``endpoint_map`` sends the proxy's endpoint names there, as in ``make sandbox``. The emulated
proxy does not check logins against its ``Auth`` (RDS Proxy would): the test checks the ``Auth``
list and the proxy role's policy in AWS instead, and that the URL logs in as the role.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import Bed, wait_for
from e2e.db_support import Aws, backed_operator, cleanup, cluster_id, db_doc, get
from e2e.db_support import ready as db_ready
from e2e.secret_support import aws_name, kube_value, ready, secret_doc, unique

pytestmark = pytest.mark.e2e

REQUEST = "proxy-users.upskill.io/"


@pytest.fixture
def operator(bed: Bed, pg_url: str) -> Iterator[OperatorThread]:
    aws = bed.settings.aws.model_copy(update={"calls_per_second": {}})
    # No database resync within a test: only the secret's doorbell can wake the database.
    with backed_operator(bed, pg_url, kind_resync_seconds={"UpskillDatabase": 3600}, aws=aws) as running:
        yield running
        cleanup(bed)


def auth_arns(aws: Aws, db: str) -> list[str]:
    return sorted(a["SecretArn"] for a in aws.proxy(db)["Auth"])


def readable(aws: Aws, db: str) -> list[str]:
    """The secrets the proxy's role may read, from its inline policy in IAM."""
    role = f"{cluster_id(db)}-proxy"
    name = aws.iam.list_role_policies(RoleName=role)["PolicyNames"][0]
    document = aws.iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    policy = json.loads(document) if isinstance(document, str) else document
    found: list[str] = []
    for statement in policy["Statement"]:
        if statement["Action"] == "secretsmanager:GetSecretValue":
            resource = statement["Resource"]
            found += resource if isinstance(resource, list) else [resource]
    return sorted(found)


def test_an_application_user_on_the_read_only_proxy_endpoint(bed: Bed, operator: OperatorThread) -> None:
    aws, db, name = Aws(bed), unique("course-db"), unique("read-url")
    bed.apply(db_doc("course", db, databaseName=f"course_{uuid.uuid4().hex[:6]}"))
    master = db_ready(bed, db)["status"]["masterUserSecretArn"]
    assert auth_arns(aws, db) == [master]

    source: dict[str, Any] = {"ref": db, "endpoint": "proxyReadOnly", "user": "course_reader"}
    bed.apply(secret_doc(name, {"database": source}, target={"secretName": f"{name}-env", "key": "READ_URL"}))
    obj = ready(bed, name, timeout=30)
    arn = obj["status"]["arn"]

    # AWS: the proxy accepts the user's secret, and its role may read it (and still the master's).
    assert auth_arns(aws, db) == sorted([master, arn])
    assert readable(aws, db) == sorted([master, arn])
    database = get(bed, db)
    assert database is not None
    assert database["status"]["proxyUserSecretArns"] == [arn]
    assert database["metadata"]["annotations"][REQUEST + name] == arn  # the doorbell the secret rang

    # The app's URL (the read-only proxy endpoint, mapped to the test PostgreSQL) logs in as the role.
    url = kube_value(bed, f"{name}-env", "READ_URL")
    record = json.loads(bed.boto("secretsmanager").get_secret_value(SecretId=aws_name(name))["SecretString"])
    assert (record["username"], record["url"]) == ("course_reader", url)
    with psycopg.connect(url, connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("course_reader",)

    # Moved to the cluster's reader endpoint: the request goes, and the proxy forgets the secret.
    bed.apply(secret_doc(name, {"database": {**source, "endpoint": "reader"}}))
    wait_for(lambda: auth_arns(aws, db) == [master], 60, "the proxy dropped the user's secret")
    assert readable(aws, db) == [master]
    after = get(bed, db)
    assert after is not None
    assert REQUEST + name not in (after["metadata"].get("annotations") or {})
    wait_for(lambda: (get(bed, db) or {}).get("status", {}).get("proxyUserSecretArns") == [], 30, "status emptied")
