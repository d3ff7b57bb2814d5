"""``upskill-operator check`` on the whole example stack, with only KUBECONFIG (the sandbox's extension).

The operator brings the stack to Ready on the TLS data plane, then stops: what ``check`` reads (the
delivered Secrets and ConfigMaps) is then changed only by these tests, so a broken value stays broken.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest

from upskill_operator.cli import main
from upskill_operator.config import AwsSettings, Settings
from upskill_sandbox.aws import MotoServer
from upskill_sandbox.dataplane import DataPlane
from upskill_sandbox.kube import KubeServer
from upskill_sandbox.operator_thread import OperatorThread
from upskill_sandbox.stack import (
    add_sandbox_extension,
    find_manifests,
    load_manifests,
    sandbox_extension,
)

from e2e.clients_support import configmap_data, secret_data, wait_stack_ready
from e2e.conftest import API, REGION, emulators

NAMESPACE = "upskill"
WRITER_URL: dict[str, Any] = {
    "apiVersion": "upskill.io/v1alpha1",
    "kind": "UpskillSecret",
    "metadata": {"name": "check-writer-url", "namespace": NAMESPACE},
    "spec": {
        "source": {"database": {"ref": "auth-db", "endpoint": "writer", "format": "url"}},
        "description": "the master user's password URL on the cluster writer endpoint",
        "target": {"secretName": "check-env", "key": "WRITER_URL"},
    },
}
"""One value whose login the bed relays to PostgreSQL's own SCRAM check: the master user on the writer."""


@dataclass
class Bed:
    aws: MotoServer
    kube: KubeServer
    kubeconfig: Path

    def passwords(self) -> set[str]:
        """Every password the bed holds: each Secrets Manager secret's and each delivered URL's."""
        sm = boto3.client(
            "secretsmanager",
            endpoint_url=self.aws.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        found: set[str] = set()
        for page in sm.get_paginator("list_secrets").paginate():
            for entry in page["SecretList"]:
                try:
                    value = json.loads(sm.get_secret_value(SecretId=entry["ARN"])["SecretString"])
                except (ValueError, KeyError, sm.exceptions.ClientError):
                    continue
                if isinstance(value, dict) and value.get("password"):
                    found.add(str(value["password"]))
        for secret in self.kube.list("v1", "secrets", NAMESPACE):
            for raw in (secret.get("data") or {}).values():
                text = base64.b64decode(raw).decode(errors="replace")
                if text.startswith("postgres") and urlsplit(text).password:
                    found.add(unquote(str(urlsplit(text).password)))
        return found


@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    workdir: Path = tmp_path_factory.mktemp("check")
    docs = [*load_manifests(find_manifests(None)), WRITER_URL]
    with emulators(REGION) as (aws, kube), DataPlane(workdir) as plane:
        for namespace in sorted({d["metadata"].get("namespace", "default") for d in docs}):
            kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        kubeconfig = kube.write_kubeconfig(workdir / "kubeconfig")
        settings = Settings(
            aws=AwsSettings(endpoint_url=aws.url, region=REGION, max_attempts=2),
            kubeconfig=str(kubeconfig),
            metrics_port=0,
            requeue_seconds=0.5,
            **plane.settings_overrides(),
        )
        with OperatorThread(settings):
            for doc in docs:
                kube.apply_manifest(doc)
            wait_stack_ready(kube, docs, NAMESPACE)
        add_sandbox_extension(kubeconfig, sandbox_extension(aws.url, plane))
        yield Bed(aws, kube, kubeconfig)


@pytest.fixture
def only_kubeconfig(bed: Bed, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment a pipeline step in the sandbox has: KUBECONFIG and nothing about AWS or the operator."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "UPSKILL_", "DATABASE_URL", "PG")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KUBECONFIG", str(bed.kubeconfig))
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)  # no developer profile either
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


def run_check(bed: Bed, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, dict[tuple[str, str, str], str]]:
    code = main(["check", "-n", NAMESPACE, "--samples", "2", "--timeout", "10"])
    captured = capsys.readouterr()
    out = captured.out + captured.err
    passwords = bed.passwords()
    assert passwords, "the scan has real passwords to look for"
    for password in passwords:
        assert password not in out, "check printed a password"
    rows = {tuple(line.split()[:3]): line for line in captured.out.splitlines() if line.startswith("Upskill")}
    return code, out, rows  # type: ignore[return-value]


def table_configmaps(bed: Bed) -> dict[str, tuple[str, str]]:
    """UpskillTable name -> (its ConfigMap, keyPrefix)."""
    return {
        t["metadata"]["name"]: (t["spec"]["connection"]["configMapName"], t["spec"]["connection"].get("keyPrefix", ""))
        for t in bed.kube.list(API, "upskilltables", NAMESPACE)
    }


def put_configmap(bed: Bed, name: str, data: dict[str, str]) -> None:
    found = bed.kube.get("v1", "configmaps", NAMESPACE, name)
    assert found is not None
    bed.kube.apply_manifest({**found, "data": data})


def put_secret(bed: Bed, name: str, data: dict[str, str]) -> None:
    found = bed.kube.get("v1", "secrets", NAMESPACE, name)
    assert found is not None
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    bed.kube.apply_manifest({**found, "data": encoded})


def test_with_only_kubeconfig_check_reaches_aws_the_fronts_and_postgresql(
    bed: Bed, only_kubeconfig: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, rows = run_check(bed, capsys)
    reached = {key: line for key, line in rows.items() if key[0] != "UpskillSecret" or key[1] == "check-writer-url"}
    assert ("UpskillSecret", "check-writer-url", "writer") in reached, out
    assert {kind for kind, _, _ in reached} == {"UpskillSecret", "UpskillTable", "UpskillDatabase"}, out
    assert all(line.endswith("ok") for line in reached.values()), out


def test_check_passes_with_only_kubeconfig(bed: Bed, only_kubeconfig: None, capsys: pytest.CaptureFixture[str]) -> None:
    """Every delivered value works unedited: password URLs of the app users, the IAM consumer's fields, tables."""
    code, out, rows = run_check(bed, capsys)
    assert code == 0, out
    assert all(re.search(r"\sok( \([^)]*\))?$", line) for line in rows.values()), out
    secrets = {name for kind, name, _ in rows if kind == "UpskillSecret"}
    assert {"auth-db-url", "course-db-url", "course-db-read-url", "progress-worker-db"} <= secrets, out
    for table, (config_map, prefix) in table_configmaps(bed).items():
        indexes = json.loads(configmap_data(bed.kube, NAMESPACE, config_map)[f"{prefix}INDEXES"])
        expected = {"DescribeTable", "Query", *(f"Query:{i['name']}" for i in indexes)}
        assert {call for kind, name, call in rows if kind == "UpskillTable" and name == table} >= expected, out
        assert indexes, f"{table} has an index to query"


def test_a_wrong_password_in_a_target_secret_is_a_failed_row(
    bed: Bed, only_kubeconfig: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, rows = run_check(bed, capsys)
    row = ("UpskillSecret", "check-writer-url", "writer")
    assert rows[row].endswith("ok"), out
    before = secret_data(bed.kube, NAMESPACE, "check-env")
    url = urlsplit(before["WRITER_URL"])
    assert url.password
    wrong = before["WRITER_URL"].replace(f":{url.password}@", ":Wrong-Password-7731@", 1)
    put_secret(bed, "check-env", {**before, "WRITER_URL": wrong})
    try:
        code, out, rows = run_check(bed, capsys)
    finally:
        put_secret(bed, "check-env", before)
    assert code == 1, out
    assert "FAIL" in rows[row], out
    assert "password authentication failed" in rows[row], out
    assert "Wrong-Password-7731" not in out
    assert "Traceback" not in out


def test_a_configmap_naming_a_missing_table_fails(
    bed: Bed, only_kubeconfig: None, capsys: pytest.CaptureFixture[str]
) -> None:
    table, (config_map, prefix) = sorted(table_configmaps(bed).items())[0]
    before = configmap_data(bed.kube, NAMESPACE, config_map)
    put_configmap(bed, config_map, {**before, f"{prefix}TABLE_NAME": "upskill-no-such-table"})
    try:
        code, out, rows = run_check(bed, capsys)
    finally:
        put_configmap(bed, config_map, before)
    assert code == 1, out
    line = rows[("UpskillTable", table, "DescribeTable")]
    assert "FAIL NotFound" in line or "FAIL ResourceNotFound" in line, line
    queries = [
        call for kind, name, call in rows if kind == "UpskillTable" and name == table and call.startswith("Query")
    ]
    assert not queries, "no Query once DescribeTable failed"


def test_an_index_the_table_lacks_fails_its_query_row(
    bed: Bed, only_kubeconfig: None, capsys: pytest.CaptureFixture[str]
) -> None:
    table, (config_map, prefix) = sorted(table_configmaps(bed).items())[-1]
    before = configmap_data(bed.kube, NAMESPACE, config_map)
    missing = {"name": "noSuchIndex", "partitionKey": "x", "partitionKeyType": "S", "projection": "ALL"}
    indexes = [*json.loads(before[f"{prefix}INDEXES"]), missing]
    put_configmap(bed, config_map, {**before, f"{prefix}INDEXES": json.dumps(indexes)})
    try:
        code, out, rows = run_check(bed, capsys)
    finally:
        put_configmap(bed, config_map, before)
    assert code == 1, out
    assert "FAIL" in rows[("UpskillTable", table, "Query:noSuchIndex")], out
    assert rows[("UpskillTable", table, "Query")].endswith("ok"), out
