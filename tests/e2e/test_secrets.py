"""UpskillSecret end to end: sources, sync to Kubernetes, refresh, ownership of keys, bad input.

Kubernetes emulator -> kopf -> our engine -> moto server, all over HTTP. Every expectation is
checked in the emulators with separate clients, never through the operator's own code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from upskill_sandbox.kube import KubeApiError
from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import NAMESPACE, Bed, condition, wait_for
from e2e.secret_support import (
    PLURAL,
    aws_name,
    aws_value,
    kube_secret,
    kube_value,
    put_kube_secret,
    ready,
    secret_doc,
    secrets_operator,
    settle,
    terminal,
    unique,
    versions,
    waiting,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def operator(bed: Bed, monkeypatch: pytest.MonkeyPatch) -> Iterator[OperatorThread]:
    """This module's operator: fast clocks, no UpskillDatabase controller (see secret_support)."""
    with secrets_operator(bed, monkeypatch) as running:
        yield running


GENERATE = {"generate": {"length": 40, "excludePunctuation": True}}


def test_generated_value_reaches_aws_and_the_kubernetes_secret(bed: Bed, operator: OperatorThread) -> None:
    name, target = unique("auth"), unique("web-env")
    put_kube_secret(bed, target, {"PERSONAL": "kept"})  # a key somebody else put there
    bed.apply(
        secret_doc(
            name,
            GENERATE,
            kmsKeyId="alias/upskill",
            description="session signing key",
            tags={"team": "auth"},
            target={"secretName": target, "key": "BETTER_AUTH_SECRET"},
        )
    )
    obj = ready(bed, name)
    sm = bed.boto("secretsmanager")
    described = sm.describe_secret(SecretId=aws_name(name))
    value = aws_value(bed, name)

    assert len(value) == 40
    assert re.fullmatch(r"[A-Za-z0-9]+", value)
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags["upskill.io/owner"] == f"{NAMESPACE}/{name}"
    assert tags["upskill.io/uid"] == obj["metadata"]["uid"]
    assert tags["team"] == "auth"
    assert described["KmsKeyId"] == "alias/upskill"
    assert described["Description"] == "session signing key"
    assert kube_value(bed, target, "BETTER_AUTH_SECRET") == value
    assert kube_value(bed, target, "PERSONAL") == "kept"

    status = obj["status"]
    current = next(v for v in versions(bed, name) if "AWSCURRENT" in v["VersionStages"])
    assert status["arn"] == described["ARN"]
    assert status["secretName"] == aws_name(name)
    assert status["versionId"] == status["syncedVersionId"] == current["VersionId"]
    assert status["versionCreatedTime"]
    assert status["syncedKeys"] == ["BETTER_AUTH_SECRET"]
    assert value not in json.dumps(obj)

    bed.calls.clear()  # steady state: resyncs read, never write
    settle(bed, name)
    assert [c for c in bed.calls.mutating() if c[0] == "secrets-manager"] == []
    assert len(versions(bed, name)) == 1


def test_from_secret_waits_for_its_source_then_follows_it(bed: Bed, operator: OperatorThread) -> None:
    name, source, target = unique("stripe"), unique("stripe-src"), unique("env")
    bed.apply(
        secret_doc(name, {"fromSecret": {"name": source, "key": "value"}}, target={"secretName": target, "key": "KEY"})
    )
    obj = waiting(bed, name, f"waiting for Secret {source}")
    assert condition(obj, "Terminal")["status"] == "False"
    assert condition(obj, "Recoverable")["status"] == "False"  # a wait, not a failure
    assert not bed.boto("secretsmanager").list_secrets(Filters=[{"Key": "name", "Values": [aws_name(name)]}])[
        "SecretList"
    ]

    put_kube_secret(bed, source, {"value": "sk_live_first"})
    ready(bed, name)
    assert aws_value(bed, name) == "sk_live_first"
    assert kube_value(bed, target, "KEY") == "sk_live_first"

    put_kube_secret(bed, source, {"value": "sk_live_second"})  # the person changes the key
    wait_for(lambda: kube_value(bed, target, "KEY") == "sk_live_second", 20, "new value synced")
    assert aws_value(bed, name) == "sk_live_second"
    stages = {v["VersionId"]: v["VersionStages"] for v in versions(bed, name)}
    assert sorted(map(tuple, stages.values())) == [("AWSCURRENT",), ("AWSPREVIOUS",)]
    first = next(v for v, s in stages.items() if s == ["AWSPREVIOUS"])

    put_kube_secret(bed, source, {"value": "sk_live_first"})  # back to a value AWS already has a version of
    wait_for(lambda: kube_value(bed, target, "KEY") == "sk_live_first", 20, "old value back")
    current = next(v for v in versions(bed, name) if "AWSCURRENT" in v["VersionStages"])
    assert current["VersionId"] == first  # that version was made current again, not written twice
    assert len(versions(bed, name)) == 2


def test_out_of_band_changes_are_refreshed(bed: Bed, operator: OperatorThread) -> None:
    name, target = unique("oob"), unique("env")
    bed.apply(secret_doc(name, GENERATE, target={"secretName": target, "key": "TOKEN"}))
    ready(bed, name)
    sm = bed.boto("secretsmanager")

    new_version = sm.put_secret_value(SecretId=aws_name(name), SecretString="changed-in-aws")["VersionId"]
    wait_for(lambda: kube_value(bed, target, "TOKEN") == "changed-in-aws", 20, "AWS change synced")
    wait_for(lambda: bed.get(PLURAL, name)["status"].get("syncedVersionId") == new_version, 10, "status follows")
    assert aws_value(bed, name) == "changed-in-aws"  # a generated value is never overwritten by the operator

    put_kube_secret(bed, target, {"TOKEN": "edited-in-kubernetes"})
    wait_for(lambda: kube_value(bed, target, "TOKEN") == "changed-in-aws", 20, "Kubernetes edit undone")


def test_a_moved_or_removed_target_takes_our_keys_out_of_the_former_secret(bed: Bed, operator: OperatorThread) -> None:
    name, first, second = unique("move"), unique("env"), unique("env")
    put_kube_secret(bed, first, {"KEEP": "a person's value"})
    doc = secret_doc(name, GENERATE, target={"secretName": first, "key": "TOKEN"})
    bed.apply(doc)
    ready(bed, name)
    value = kube_value(bed, first, "TOKEN")
    assert value is not None
    bed.apply(secret_doc(name, GENERATE, target={"secretName": second, "key": "TOKEN"}))
    wait_for(lambda: kube_value(bed, second, "TOKEN") == value, 20, "synced to the new Secret")
    wait_for(lambda: kube_value(bed, first, "TOKEN") is None, 20, "our key left the former Secret")
    assert kube_value(bed, first, "KEEP") == "a person's value"
    wait_for(lambda: bed.get(PLURAL, name)["status"].get("syncedSecretName") == second, 10, "status names it")
    bed.apply(secret_doc(name, GENERATE, target=None))  # no target at all (null removes it in a merge patch)
    wait_for(lambda: kube_secret(bed, second) is None, 20, "the Secret we created, now empty, is gone")
    assert aws_value(bed, name) == value  # the value itself stays in Secrets Manager
    bed.delete(PLURAL, name)
    wait_for(lambda: bed.get(PLURAL, name) is None, 20, "a secret without a target is deleted too")


def test_a_key_written_by_another_resource_is_refused(bed: Bed, operator: OperatorThread) -> None:
    first, second, target = unique("one"), unique("two"), unique("env")
    bed.apply(secret_doc(first, GENERATE, target={"secretName": target, "key": "SHARED"}))
    ready(bed, first)
    value = kube_value(bed, target, "SHARED")
    bed.apply(secret_doc(second, GENERATE, target={"secretName": target, "key": "SHARED"}))
    obj = terminal(bed, second)
    assert condition(obj, "Terminal")["reason"] == "KeyConflict"
    assert f"written by UpskillSecret {NAMESPACE}/{first}" in condition(obj, "Terminal")["message"]
    assert kube_value(bed, target, "SHARED") == value


@pytest.mark.parametrize(
    ("source", "spec", "message"),
    [
        ({}, {}, "exactly one of generate, fromSecret or database must be set"),
        ({**GENERATE, "fromSecret": {"name": "x", "key": "y"}}, {}, "exactly one of generate, fromSecret or database"),
        ({"generate": {"length": 7}}, {}, r"spec.source.generate.length"),
        ({"generate": {"length": 4097}}, {}, r"spec.source.generate.length"),
        (GENERATE, {"recoveryWindowDays": 6}, r"spec.recoveryWindowDays"),
        (GENERATE, {"recoveryWindowDays": 31}, r"spec.recoveryWindowDays"),
        ({"database": {"ref": "other/auth-db"}}, {}, r"spec.source.database.ref"),
        (GENERATE, {"target": {"secretName": "env", "key": "AUTH-DB-URL"}}, r"spec.target.key"),
    ],
    ids=["no-source", "two-sources", "short", "long", "window-6", "window-31", "other-namespace", "env-name"],
)
def test_bad_input_is_refused_at_admission(
    bed: Bed, source: dict[str, Any], spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(KubeApiError, match=message):
        bed.apply(secret_doc(unique("bad"), source, **spec))


@pytest.mark.parametrize(
    ("source", "spec", "message"),
    [
        (
            {"database": {"ref": "auth-db", "user": "pg_reader", "endpoint": "writer"}},
            {},
            "spec.source.database.user: 'pg_reader' is reserved for PostgreSQL or RDS roles",
        ),
        (
            GENERATE,
            {"rotation": {"scheduleExpression": "cron(0 4 L * ? *)"}},
            "spec.rotation.scheduleExpression: 'L': L, W and # are not supported",
        ),
    ],
    ids=["reserved-user", "cron-L"],
)
def test_what_admission_cannot_see_is_terminal_and_touches_nothing(
    bed: Bed, operator: OperatorThread, source: dict[str, Any], spec: dict[str, Any], message: str
) -> None:
    name = unique("invalid")
    bed.calls.clear()
    bed.apply(secret_doc(name, source, **spec))
    obj = terminal(bed, name)
    assert condition(obj, "Terminal")["reason"] == "InvalidSpec"
    assert message in condition(obj, "Terminal")["message"]
    assert [c for c in bed.calls.mutating() if c[0] == "secrets-manager"] == []
    assert not bed.boto("secretsmanager").list_secrets(Filters=[{"Key": "name", "Values": [aws_name(name)]}])[
        "SecretList"
    ]


def test_deletion_policies_and_restore_after_re_create(bed: Bed, operator: OperatorThread) -> None:
    window, gone, kept, target = unique("window"), unique("gone"), unique("kept"), unique("env")
    docs = {
        window: secret_doc(window, GENERATE, recoveryWindowDays=9, target={"secretName": target, "key": "W"}),
        gone: secret_doc(gone, GENERATE, forceDelete=True, target={"secretName": target, "key": "G"}),
        kept: secret_doc(kept, GENERATE, deletionPolicy="Retain", target={"secretName": target, "key": "K"}),
    }
    for doc in docs.values():
        bed.apply(doc)
    arns = {name: ready(bed, name)["status"]["arn"] for name in docs}
    values = {name: aws_value(bed, name) for name in docs}
    for name in docs:
        bed.delete(PLURAL, name)
    for name in docs:
        wait_for(lambda name=name: bed.get(PLURAL, name) is None, 20, f"{name} finalized")

    sm = bed.boto("secretsmanager")
    scheduled = sm.describe_secret(SecretId=aws_name(window))
    assert scheduled["DeletedDate"]  # recoverable for 9 days
    with pytest.raises(sm.exceptions.ResourceNotFoundException):
        sm.describe_secret(SecretId=aws_name(gone))
    assert "DeletedDate" not in sm.describe_secret(SecretId=aws_name(kept))
    data = (kube_secret(bed, target) or {}).get("data") or {}
    assert sorted(data) == ["K"]  # Delete removes its keys; Retain leaves everything

    bed.apply(docs[window])  # the same resource again: the scheduled secret is restored, not refused
    obj = ready(bed, window)
    assert obj["status"]["arn"] == arns[window]
    assert "DeletedDate" not in sm.describe_secret(SecretId=aws_name(window))
    assert aws_value(bed, window) == values[window]
    assert kube_value(bed, target, "W") == values[window]
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=aws_name(window))["Tags"]}
    assert tags["upskill.io/uid"] == obj["metadata"]["uid"]


def test_foreign_secret_is_never_touched(bed: Bed, operator: OperatorThread) -> None:
    name = unique("foreign")
    sm = bed.boto("secretsmanager")
    sm.create_secret(
        Name=aws_name(name), SecretString="theirs", Tags=[{"Key": "upskill.io/owner", "Value": "someone/else"}]
    )
    bed.calls.clear()
    bed.apply(secret_doc(name, GENERATE))
    obj = terminal(bed, name)
    assert condition(obj, "Terminal")["reason"] == "ForeignOwner"
    assert [c for c in bed.calls.mutating() if c[0] == "secrets-manager"] == []
    assert aws_value(bed, name) == "theirs"
