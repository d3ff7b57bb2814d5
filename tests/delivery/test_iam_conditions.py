"""Each statement of policy.json whose safety rests on a Condition, evaluated locally: allowed or denied as meant.

moto evaluates no condition key, so the enforcing bed decides with our evaluator
(:mod:`upskill_sandbox.iam_eval`, tested on its own in tests/unit/test_iam_eval.py). Here
the request contexts are written by hand the way AWS builds them (``aws:RequestTag`` on a create,
``aws:ResourceTag`` and ``secretsmanager:ResourceTag`` from the object's tags, ``kms:ViaService``
and ``aws:ViaAWSService`` on a service's forward access session), including the ones the bed cannot
produce (``rds-db:connect`` happens at login, not through an API). Each conditioned Sid must have
both kinds of case, so a new conditioned statement cannot ship untested.
"""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.generate import boundary
from upskill_operator.generate import iam_policy as policy
from upskill_sandbox.iam_eval import Request, evaluate

ACCOUNT, REGION = "111122223333", "eu-west-1"
OWNED = {"aws:ResourceTag/upskill.io/owner": "upskill/auth-db", "secretsmanager:ResourceTag/upskill.io/owner": "x/y"}
ON_CREATE = {"aws:RequestTag/upskill.io/owner": "upskill/auth-db", "aws:TagKeys": ["upskill.io/owner"]}
DIRECT = {"aws:ViaAWSService": "false"}
OURS = f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:upskill-upskill-auth-db"
THEIRS = f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:team-b-db"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/upskill-proxy-role-boundary"


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{'' if service == 'iam' else REGION}:{ACCOUNT}:{resource}"


def master_secret(cluster: str | None) -> dict[str, str]:
    tags = {"aws:rds:primaryDBClusterArn": cluster} if cluster else {}
    return {
        **DIRECT,
        **{f"{p}/{k}": v for k, v in tags.items() for p in ("aws:ResourceTag", "secretsmanager:ResourceTag")},
    }


def via(service: str) -> dict[str, str]:
    return {"kms:ViaService": f"{service}.{REGION}.amazonaws.com", "aws:ViaAWSService": "true"}


SECRET = arn("secretsmanager", "secret:upskill/upskill/auth-db-url-AbCdEf")
FOREIGN_SECRET = arn("secretsmanager", "secret:team-b/stripe-live-AbCdEf")
RDS_SECRET = arn("secretsmanager", "secret:rds!cluster-0f1e2d3c-AbCdEf")
ROLE = arn("iam", "role/upskill-upskill-auth-db-proxy")
KEY = arn("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab")
GROUP = arn("ec2", "security-group/sg-0123456789abcdef0")
PROXY = arn("rds", "db-proxy:prx-0123456789abcdef0")
SNAPSHOT = arn("rds", "cluster-snapshot:upskill-upskill-auth-db-before-0005")
ALARM = arn("cloudwatch", "alarm:upskill-upskill-auth-db-cpu")
FOREIGN_ALARM = arn("cloudwatch", "alarm:team-b-latency")

# (sid that decides, description, request, allowed)
CASES: list[tuple[str, str, Request, bool]] = [
    (
        "SecretsManagerCreateOwn",
        "create our secret, tagged",
        Request("secretsmanager:CreateSecret", SECRET, ON_CREATE),
        True,
    ),
    (
        "SecretsManagerCreateOwn",
        "create without our tag",
        Request("secretsmanager:CreateSecret", SECRET, DIRECT),
        False,
    ),
    (
        "SecretsManagerCreateOwn",
        "tag a foreign secret",
        Request("secretsmanager:TagResource", FOREIGN_SECRET, ON_CREATE),
        False,
    ),
    (
        "SecretsManagerManageOwn",
        "read our tagged secret",
        Request("secretsmanager:GetSecretValue", SECRET, OWNED),
        True,
    ),
    (
        "SecretsManagerManageOwn",
        "read an untagged one under the prefix",
        Request("secretsmanager:GetSecretValue", SECRET, DIRECT),
        False,
    ),
    (
        "SecretsManagerManageOwn",
        "read a foreign secret someone tagged",
        Request("secretsmanager:GetSecretValue", FOREIGN_SECRET, OWNED),
        False,
    ),
    (
        "SecretsManagerManageOwn",
        "delete an untagged one",
        Request("secretsmanager:DeleteSecret", SECRET, DIRECT),
        False,
    ),
    (
        "SecretsManagerOurClustersMasterSecrets",
        "our cluster's master secret",
        Request("secretsmanager:GetSecretValue", RDS_SECRET, master_secret(OURS)),
        True,
    ),
    (
        "SecretsManagerOurClustersMasterSecrets",
        "another cluster's",
        Request("secretsmanager:GetSecretValue", RDS_SECRET, master_secret(THEIRS)),
        False,
    ),
    (
        "SecretsManagerOurClustersMasterSecrets",
        "an rds! secret without the tag",
        Request("secretsmanager:GetSecretValue", RDS_SECRET, master_secret(None)),
        False,
    ),
    (
        "SecretsManagerRdsCreatesMasterSecrets",
        "RDS creates it for us",
        Request("secretsmanager:CreateSecret", RDS_SECRET, via("rds")),
        True,
    ),
    (
        "SecretsManagerRdsCreatesMasterSecrets",
        "the operator tags one itself",
        Request("secretsmanager:TagResource", RDS_SECRET, {**DIRECT, **ON_CREATE}),
        False,
    ),
    ("RdsCreateOwn", "create a tagged cluster", Request("rds:CreateDBCluster", OURS, ON_CREATE), True),
    (
        "RdsOnDemandSnapshots",
        "take a tagged on-demand snapshot",
        Request("rds:CreateDBClusterSnapshot", SNAPSHOT, ON_CREATE),
        True,
    ),
    (
        "RdsOnDemandSnapshots",
        "take an untagged snapshot",
        Request("rds:CreateDBClusterSnapshot", SNAPSHOT, DIRECT),
        False,
    ),
    ("RdsCreateOwn", "create an untagged cluster", Request("rds:CreateDBCluster", OURS, DIRECT), False),
    ("RdsTagOnCreateByName", "tag our new cluster", Request("rds:AddTagsToResource", OURS, ON_CREATE), True),
    (
        "RdsTagOnCreateByName",
        "tag a foreign untagged cluster",
        Request("rds:AddTagsToResource", THEIRS, ON_CREATE),
        False,
    ),
    ("RdsTagNewProxies", "tag a proxy on creation", Request("rds:AddTagsToResource", PROXY, ON_CREATE), True),
    (
        "RdsTagNewProxies",
        "tag without our owner tag",
        Request("rds:AddTagsToResource", PROXY, {"aws:RequestTag/team": "b"}),
        False,
    ),
    ("RdsManageOwn", "modify our tagged cluster", Request("rds:ModifyDBCluster", OURS, OWNED), True),
    ("RdsManageOwn", "modify an untagged cluster", Request("rds:ModifyDBCluster", THEIRS, DIRECT), False),
    ("RdsManageOwn", "delete an untagged cluster", Request("rds:DeleteDBCluster", THEIRS, DIRECT), False),
    (
        "IamProxyRolesUnderBoundary",
        "create a role under our boundary",
        Request("iam:CreateRole", ROLE, {"iam:PermissionsBoundary": BOUNDARY}),
        True,
    ),
    ("IamProxyRolesUnderBoundary", "create a role without a boundary", Request("iam:CreateRole", ROLE, {}), False),
    (
        "IamProxyRolesUnderBoundary",
        "under AdministratorAccess",
        Request("iam:CreateRole", ROLE, {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        False,
    ),
    ("IamProxyRolesUnderBoundary", "a policy on an unbounded role", Request("iam:PutRolePolicy", ROLE, {}), False),
    (
        "IamProxyRolesUnderBoundary",
        "a trust on an unbounded role",
        Request("iam:UpdateAssumeRolePolicy", ROLE, {}),
        False,
    ),
    (
        "IamPassProxyRolesToRds",
        "pass our role to RDS",
        Request("iam:PassRole", ROLE, {"iam:PassedToService": "rds.amazonaws.com"}),
        True,
    ),
    (
        "IamPassProxyRolesToRds",
        "pass it to Lambda",
        Request("iam:PassRole", ROLE, {"iam:PassedToService": "lambda.amazonaws.com"}),
        False,
    ),
    (
        "KmsGrantsForAwsServices",
        "a grant for RDS's storage",
        Request("kms:CreateGrant", KEY, {**via("rds"), "kms:GrantIsForAWSResource": "true"}),
        True,
    ),
    (
        "KmsGrantsForAwsServices",
        "a grant for ourselves",
        Request("kms:CreateGrant", KEY, {**via("rds"), "kms:GrantIsForAWSResource": "false"}),
        False,
    ),
    (
        "KmsDataKeysThroughServices",
        "decrypt through Secrets Manager",
        Request("kms:Decrypt", KEY, via("secretsmanager")),
        True,
    ),
    ("KmsDataKeysThroughServices", "decrypt directly", Request("kms:Decrypt", KEY, DIRECT), False),
    ("Ec2CreateOwnSecurityGroups", "create a tagged group", Request("ec2:CreateSecurityGroup", GROUP, ON_CREATE), True),
    (
        "Ec2CreateOwnSecurityGroups",
        "create an untagged group",
        Request("ec2:CreateSecurityGroup", GROUP, DIRECT),
        False,
    ),
    (
        "Ec2TagOnCreate",
        "tag it on creation",
        Request("ec2:CreateTags", GROUP, {"ec2:CreateAction": "CreateSecurityGroup"}),
        True,
    ),
    ("Ec2TagOnCreate", "tag a foreign group", Request("ec2:CreateTags", GROUP, ON_CREATE), False),
    ("Ec2ManageOwnSecurityGroups", "open our group", Request("ec2:AuthorizeSecurityGroupIngress", GROUP, OWNED), True),
    ("Ec2ManageOwnSecurityGroups", "delete a foreign group", Request("ec2:DeleteSecurityGroup", GROUP, DIRECT), False),
    ("CloudWatchTagOwnAlarms", "tag our alarm on creation", Request("cloudwatch:TagResource", ALARM, ON_CREATE), True),
    (
        "CloudWatchTagOwnAlarms",
        "tag our alarm without the owner tag",
        Request("cloudwatch:TagResource", ALARM, DIRECT),
        False,
    ),
    (
        "CloudWatchTagOwnAlarms",
        "tag a foreign alarm",
        Request("cloudwatch:TagResource", FOREIGN_ALARM, ON_CREATE),
        False,
    ),
    ("CloudWatchDeleteOwnAlarms", "delete our tagged alarm", Request("cloudwatch:DeleteAlarms", ALARM, OWNED), True),
    ("CloudWatchDeleteOwnAlarms", "delete an untagged alarm", Request("cloudwatch:DeleteAlarms", ALARM, DIRECT), False),
    (
        "CloudWatchDeleteOwnAlarms",
        "delete a foreign alarm",
        Request("cloudwatch:DeleteAlarms", FOREIGN_ALARM, OWNED),
        False,
    ),
    # No condition key applies to rds-db:connect: it is scoped by resource (RDS Proxy users only).
    (
        "RdsIamAuthenticationThroughProxies",
        "log in through a proxy",
        Request("rds-db:connect", arn("rds-db", "dbuser:prx-0a1b2c/upskill_admin"), {}),
        True,
    ),
    (
        "RdsIamAuthenticationThroughProxies",
        "log in to a cluster directly",
        Request("rds-db:connect", arn("rds-db", "dbuser:cluster-ABCDEFGHIJ/postgres"), {}),
        False,
    ),
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return policy.document()


@pytest.mark.parametrize(("sid", "request_", "allowed"), [(c[0], c[2], c[3]) for c in CASES], ids=[c[1] for c in CASES])
def test_the_statement_decides_as_intended(
    document: dict[str, Any], sid: str, request_: Request, allowed: bool
) -> None:
    decision = evaluate([document], request_)
    assert decision.allowed is allowed, decision
    if allowed:
        assert sid in decision.statements


def test_every_conditioned_statement_has_an_allowed_and_a_denied_case(document: dict[str, Any]) -> None:
    conditioned = {s["Sid"] for s in document["Statement"] if "Condition" in s} | {"RdsIamAuthenticationThroughProxies"}
    for sid in sorted(conditioned):
        outcomes = {allowed for s, _, _, allowed in CASES if s == sid}
        assert outcomes == {True, False}, f"{sid}: add an allowed and a denied case"


BOUNDED = [
    ("read our tagged secret", Request("secretsmanager:GetSecretValue", SECRET, OWNED), True),
    ("our cluster's master secret", Request("secretsmanager:GetSecretValue", RDS_SECRET, master_secret(OURS)), True),
    ("decrypt through Secrets Manager", Request("kms:Decrypt", KEY, via("secretsmanager")), True),
    ("a foreign secret", Request("secretsmanager:GetSecretValue", FOREIGN_SECRET, OWNED), False),
    (
        "another cluster's master secret",
        Request("secretsmanager:GetSecretValue", RDS_SECRET, master_secret(THEIRS)),
        False,
    ),
    ("write a secret", Request("secretsmanager:PutSecretValue", SECRET, OWNED), False),
    ("anything of IAM", Request("iam:CreateUser", arn("iam", "user/backdoor"), {}), False),
]


@pytest.mark.parametrize(("request_", "allowed"), [c[1:] for c in BOUNDED], ids=[c[0] for c in BOUNDED])
def test_a_role_under_the_boundary_can_do_at_most_what_a_proxy_needs(request_: Request, allowed: bool) -> None:
    anything = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    assert evaluate([anything], request_, boundary=boundary.document()).allowed is allowed
