"""Application users through the RDS Proxy: which secrets are asked for, and what the proxy and its role get."""

from __future__ import annotations

from typing import Any

from upskill_operator.adapters.database.proxy import desired_auth, proxy_changes
from upskill_operator.adapters.database.proxy_role import access_policy
from upskill_operator.adapters.database.proxy_users import ProxyUser, candidates
from upskill_operator.adapters.secret.proxy_access import request_key

MASTER = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1-AbCdEf"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1111"


def secret(name: str, arn: str | None = "arn:s", deleting: bool = False, **source: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, **({"deletionTimestamp": "2026-11-25T00:00:00Z"} if deleting else {})}
    return {"metadata": meta, "spec": {"source": {"database": source}}, "status": {"arn": arn} if arn else {}}


def test_candidates_are_app_users_of_this_database_on_a_proxy_endpoint() -> None:
    objects = [
        secret("reader", "arn:r", ref="course-db", user="course_reader", endpoint="proxyReadOnly"),
        secret("default", "arn:d", ref="course-db", user="course_app"),  # endpoint defaults to proxy
        secret("master", "arn:m", ref="course-db", endpoint="proxy"),  # the master user: already in Auth
        secret("worker", "arn:k", ref="course-db", user="progress_worker", auth="IAM"),
        secret("direct", "arn:w", ref="course-db", user="course_app", endpoint="writer"),
        secret("other-db", "arn:o", ref="auth-db", user="auth_app"),
        secret("unsaved", None, ref="course-db", user="course_app"),  # no secret in AWS yet
        secret("leaving", "arn:l", deleting=True, ref="course-db", user="course_app"),
        {"metadata": {"name": "generated"}, "spec": {"source": {"generate": {"length": 32}}}},
        {"metadata": {"name": "malformed"}, "spec": {"source": {"database": "course-db"}}},  # no schema in front
        {
            "metadata": {"name": "odd-status"},
            "spec": {"source": {"database": {"ref": "course-db", "user": "u"}}},
            "status": {"arn": ["arn:x"]},
        },
        {"metadata": {"name": "no-spec"}, "spec": None},
    ]
    assert candidates("course-db", objects) == [
        ("default", "arn:d", False),
        ("reader", "arn:r", False),
        ("worker", "arn:k", True),
    ]


def test_auth_lists_the_master_from_iam_auth_then_each_user_with_its_own_auth() -> None:
    users = [ProxyUser("arn:b", "b", iam=True), ProxyUser("arn:a", "a")]
    auth = desired_auth(MASTER, "Required", users)
    assert [(a["SecretArn"], a["IAMAuth"]) for a in auth] == [
        (MASTER, "REQUIRED"),
        ("arn:a", "DISABLED"),
        ("arn:b", "REQUIRED"),
    ]
    assert [a["IAMAuth"] for a in desired_auth(MASTER, "Disabled", users)] == ["DISABLED", "DISABLED", "REQUIRED"]
    assert auth[1]["Description"] == "application user (UpskillSecret a)"
    have = {"EngineFamily": "POSTGRESQL", "Auth": desired_auth(MASTER, "Required")}
    diff, changes, _ = proxy_changes(have, {"Auth": auth})
    assert diff == ("proxy auth (spec.proxy.iamAuth, application users)",)
    assert changes == {"Auth": auth}
    assert proxy_changes({**have, "Auth": list(reversed(auth))}, {"Auth": auth})[0] == ()  # order is not drift
    flipped = [{**a, "IAMAuth": "REQUIRED"} if a["SecretArn"] == "arn:a" else a for a in auth]
    assert proxy_changes({**have, "Auth": flipped}, {"Auth": auth})[0] != ()  # one user's IAMAuth is drift


def test_the_role_reads_exactly_the_accepted_secrets_and_their_keys() -> None:
    alone = access_policy(MASTER, KEY, "us-east-1")
    assert [s["Sid"] for s in alone["Statement"]] == ["ReadMasterSecret", "DecryptMasterSecret"]
    users = [ProxyUser("arn:b", "b", "arn:key/2"), ProxyUser("arn:a", "a", KEY), ProxyUser("arn:c", "c")]
    policy = access_policy(MASTER, KEY, "us-east-1", users)
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["ReadApplicationUserSecrets"]["Resource"] == ["arn:a", "arn:b", "arn:c"]
    assert statements["DecryptApplicationUserSecrets"]["Resource"] == ["arn:key/2"]  # the master key is granted
    assert statements["DecryptApplicationUserSecrets"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
    }
    assert statements["ReadMasterSecret"] == alone["Statement"][0]  # unchanged: no update for existing roles


def test_request_keys_are_valid_annotation_names() -> None:
    assert request_key("course-db-read-url") == "proxy-users.upskill.io/course-db-read-url"
    long = request_key("x" * 200)
    assert len(long.split("/", 1)[1]) <= 63
    assert long != request_key("x" * 199)
