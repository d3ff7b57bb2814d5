"""The proxy users step against the moto server: only secrets tagged for the UpskillSecret naming them count.

An UpskillSecret's status can be written by anyone allowed to patch it, so the database verifies
each secret in Secrets Manager (owner tag, not scheduled for deletion) before its proxy role may
read it. The role adapter then grants exactly what was verified.
"""

from __future__ import annotations

import json
from typing import Any

from upskill_operator.adapters.database.proxy_role import POLICY_NAME, ProxyRoleAdapter
from upskill_operator.adapters.database.proxy_users import ProxyUser, ProxyUsersAdapter
from upskill_operator.aws.secretsmanager import SecretsManager
from upskill_operator.reconcile.outcome import State
from upskill_sandbox.aws import MotoServer, Seed

from integration.conftest import REGION
from integration.db_driver import NAMESPACE, PREFIX, Driver, Services, clients, spec_of


def upskill_secret(name: str, arn: str, endpoint: str = "proxy") -> dict[str, Any]:
    source = {"ref": "db", "endpoint": endpoint, "user": "app_user"}
    return {"metadata": {"name": name}, "spec": {"source": {"database": source}}, "status": {"arn": arn}}


def test_only_verified_secrets_reach_the_proxy_role(moto: MotoServer, seed: Seed) -> None:
    sm = moto.client("secretsmanager", REGION)

    def made(name: str, owner: str, **extra: Any) -> str:
        tags = [{"Key": "upskill.io/owner", "Value": owner}]
        return str(sm.create_secret(Name=name, SecretString="{}", Tags=tags, **extra)["ARN"])

    reader = made("upskill/team/reader", f"{NAMESPACE}/reader", KmsKeyId="alias/upskill")
    forged = made("payroll", "finance/payroll")  # someone's secret, named in a forged status
    gone = made("upskill/team/gone", f"{NAMESPACE}/gone")
    sm.delete_secret(SecretId=gone, RecoveryWindowInDays=7)
    listed = [
        upskill_secret("reader", reader, "proxyReadOnly"),
        upskill_secret("impostor", forged),
        upskill_secret("gone", gone),
        upskill_secret("missing", reader.replace("reader", "nothing")),
    ]
    services = Services.of(clients(moto))
    users = ProxyUsersAdapter(
        lambda namespace: listed if namespace == NAMESPACE else [], SecretsManager(clients(moto)), services.kms
    )
    key = moto.client("kms", REGION).describe_key(KeyId="alias/upskill")["KeyMetadata"]["Arn"]

    master = moto.client("rds", REGION).create_db_cluster(
        DBClusterIdentifier="upskill-team-db",
        Engine="aurora-postgresql",
        MasterUsername="upskill_admin",
        ManageMasterUserPassword=True,
    )["DBCluster"]["MasterUserSecret"]["SecretArn"]
    driver = Driver(spec_of("course"), given={"masterUserSecretArn": master})
    outcome = driver.run([users, ProxyRoleAdapter(services.iam, services.kms, PREFIX)])
    assert outcome.state is State.READY, outcome.message
    assert list(outcome.outputs["proxyUsers"]) == [ProxyUser(arn=reader, secret="reader", kms_key_arn=key)]

    iam = moto.client("iam", REGION)
    document = iam.get_role_policy(RoleName=f"{driver.cluster}-proxy", PolicyName=POLICY_NAME)["PolicyDocument"]
    policy = json.loads(document) if isinstance(document, str) else document
    reads = [s["Resource"] for s in policy["Statement"] if s["Action"] == "secretsmanager:GetSecretValue"]
    assert reads == [master, [reader]]
    assert forged not in json.dumps(policy)
