"""Table ConfigMaps as apps load them: prefixed keys, three tables under one envFrom, a prefix change."""

from __future__ import annotations

import json

import pytest

from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import NAMESPACE, Bed, wait_for
from e2e.test_tables import aws_table, ready, table_doc, unique

pytestmark = pytest.mark.e2e


def config_map(bed: Bed, name: str) -> dict[str, str]:
    found = bed.kube.get("v1", "configmaps", NAMESPACE, f"{name}-table")
    assert found is not None
    return dict(found.get("data") or {})


def test_three_prefixed_tables_load_into_one_env_without_a_collision(bed: Bed, operator: OperatorThread) -> None:
    names = {prefix: unique(prefix.lower().rstrip("_")) for prefix in ("NOTIFICATIONS_", "ACTIVITY_", "ANALYTICS_")}
    for prefix, name in names.items():
        connection = {"configMapName": f"{name}-table", "keyPrefix": prefix}
        doc = table_doc(name, connection=connection, globalIndexes=[])
        del doc["spec"]["ttlAttribute"], doc["spec"]["stream"]
        bed.apply(doc)
    env: dict[str, str] = {}
    for prefix, name in names.items():
        ready(bed, name)
        data = config_map(bed, name)
        assert all(key.startswith(prefix) for key in data)
        assert env.keys().isdisjoint(data)  # envFrom of all three: no key is shadowed
        env |= data
    for prefix, name in names.items():
        table = aws_table(bed, name)
        assert env[f"{prefix}TABLE_NAME"] == table["TableName"]
        assert env[f"{prefix}TABLE_ARN"] == table["TableArn"]
        assert env[f"{prefix}PARTITION_KEY"] == "pk"
        assert env[f"{prefix}SORT_KEY_TYPE"] == "S"
        assert env[f"{prefix}INDEX_NAMES"] == ""
        assert json.loads(env[f"{prefix}INDEXES"]) == []
        assert f"{prefix}STREAM_ARN" not in env
        assert f"{prefix}TTL_ATTRIBUTE" not in env


def test_a_new_prefix_replaces_every_old_key(bed: Bed, operator: OperatorThread) -> None:
    name = unique("feed")
    bed.apply(table_doc(name))
    ready(bed, name)
    before = config_map(bed, name)
    assert before["INDEX_NAMES"] == "byUser"

    bed.apply(table_doc(name, connection={"configMapName": f"{name}-table", "keyPrefix": "FEED_"}))
    after = wait_for(
        lambda: (data := config_map(bed, name)) and all(k.startswith("FEED_") for k in data) and data,
        30,
        "only FEED_ keys",
    )
    assert after == {f"FEED_{key}": value for key, value in before.items()}
