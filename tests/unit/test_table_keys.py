"""The table ConfigMap's keys, one row per spec shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from upskill_operator.adapters.table.config_keys import table_config_data
from upskill_operator.models.table import TableSpec

OUT = {"tableName": "t-1", "arn": "arn:aws:dynamodb:us-east-1:1:table/t-1"}
PK = {"partition": {"name": "pk", "type": "S"}}


def spec(**fields: Any) -> TableSpec:
    return TableSpec.model_validate({"keys": PK, **fields})


@pytest.mark.parametrize(
    ("fields", "outputs", "expected"),
    [
        (
            {},
            OUT,
            {
                "TABLE_NAME": "t-1",
                "TABLE_ARN": OUT["arn"],
                "AWS_REGION": "eu-west-1",
                "PARTITION_KEY": "pk",
                "PARTITION_KEY_TYPE": "S",
                "INDEX_NAMES": "",
                "INDEXES": "[]",
            },
        ),
        (
            {"keys": {**PK, "sort": {"name": "at", "type": "N"}}, "ttlAttribute": "exp"},
            {**OUT, "streamArn": "arn:s"},
            {"SORT_KEY": "at", "SORT_KEY_TYPE": "N", "TTL_ATTRIBUTE": "exp", "STREAM_ARN": "arn:s"},
        ),
    ],
)
def test_keys(fields: dict[str, Any], outputs: dict[str, str], expected: dict[str, str]) -> None:
    data = table_config_data(spec(**fields), outputs, "eu-west-1")
    assert data is not None
    assert expected.items() <= data.items()
    if "SORT_KEY" not in expected:
        assert not {"SORT_KEY", "SORT_KEY_TYPE", "TTL_ATTRIBUTE", "STREAM_ARN"} & data.keys()


def test_indexes_list_names_keys_and_projection() -> None:
    indexes = [
        {"name": "byUser", "partition": {"name": "u", "type": "S"}, "sort": {"name": "at", "type": "N"}},
        {"name": "byCourse", "partition": {"name": "c", "type": "B"}, "projection": "KEYS_ONLY"},
    ]
    data = table_config_data(spec(globalIndexes=indexes), OUT, "us-east-1")
    assert data is not None
    assert data["INDEX_NAMES"] == "byUser,byCourse"
    assert json.loads(data["INDEXES"]) == [
        {
            "name": "byUser",
            "partitionKey": "u",
            "partitionKeyType": "S",
            "sortKey": "at",
            "sortKeyType": "N",
            "projection": "ALL",
        },
        {"name": "byCourse", "partitionKey": "c", "partitionKeyType": "B", "projection": "KEYS_ONLY"},
    ]


def test_prefix_goes_on_every_key_and_nothing_before_the_table_exists() -> None:
    prefixed = spec(connection={"configMapName": "m", "keyPrefix": "NOTIFICATIONS_"})
    data = table_config_data(prefixed, OUT, "us-east-1")
    assert data is not None
    assert data["NOTIFICATIONS_TABLE_NAME"] == "t-1"
    assert all(key.startswith("NOTIFICATIONS_") for key in data)
    assert table_config_data(prefixed, {}, "us-east-1") is None


@pytest.mark.parametrize("prefix", ["1X_", "A-B", "A" * 236, ""])
def test_a_prefix_that_makes_a_bad_key_is_refused(prefix: str) -> None:
    with pytest.raises(ValidationError, match="keyPrefix"):
        spec(connection={"configMapName": "m", "keyPrefix": prefix})


def test_the_longest_prefix_keeps_every_key_valid() -> None:
    data = table_config_data(spec(connection={"configMapName": "m", "keyPrefix": "A" * 235}), OUT, "us-east-1")
    assert data is not None
    assert max(len(key) for key in data) == 253
