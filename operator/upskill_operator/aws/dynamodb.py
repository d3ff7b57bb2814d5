"""The DynamoDB façade: exactly the control-plane calls the table adapter makes, the probe's read and
``check``'s Query.

Arguments and results are AWS-shaped dicts (checked against botocore's service
model, ``dynamodb/2012-08-10``); the adapter layer turns them into its own
normalised state. Every call goes through :meth:`Facade.call`, so it is timed,
rate limited and classified: a missing table surfaces as ``AwsNotFoundError``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from upskill_operator.aws.base import Facade
from upskill_operator.aws.errors import AwsRecoverableError, AwsTerminalError
from upskill_operator.models.tags import tag_dict, tag_list

__all__ = ["DynamoDB"]

AwsDict = dict[str, Any]


class DynamoDB(Facade):
    """Typed DynamoDB control-plane calls (tables, TTL, continuous backups, tags), the probe's GetItem and
    ``check``'s Query."""

    service = "dynamodb"
    iam_prefix = "dynamodb"
    operations = frozenset(
        {
            "CreateTable",
            "DeleteTable",
            "DescribeContinuousBackups",
            "DescribeTable",
            "DescribeTimeToLive",
            "GetItem",
            "ListBackups",
            "ListTagsOfResource",
            "Query",
            "TagResource",
            "UntagResource",
            "UpdateContinuousBackups",
            "UpdateTable",
            "UpdateTimeToLive",
        }
    )

    def describe_table(self, table_name: str) -> AwsDict:
        """The ``TableDescription``; raises ``AwsNotFoundError`` when the table does not exist."""
        table: AwsDict = self.call("DescribeTable", TableName=table_name)["Table"]
        return table

    def create_table(
        self,
        table_name: str,
        *,
        key_schema: Sequence[Mapping[str, str]],
        attribute_definitions: Sequence[Mapping[str, str]],
        global_indexes: Sequence[Mapping[str, Any]] = (),
        stream: Mapping[str, Any] | None = None,
        sse: Mapping[str, Any] | None = None,
        deletion_protection: bool = False,
        tags: Mapping[str, str] | None = None,
    ) -> AwsDict:
        """Create an on-demand (PAY_PER_REQUEST) table in one call, tags included, so it is never untagged."""
        params: AwsDict = {
            "TableName": table_name,
            "KeySchema": list(key_schema),
            "AttributeDefinitions": list(attribute_definitions),
            "BillingMode": "PAY_PER_REQUEST",
            "DeletionProtectionEnabled": deletion_protection,
        }
        if global_indexes:
            params["GlobalSecondaryIndexes"] = list(global_indexes)
        if stream is not None:
            params["StreamSpecification"] = dict(stream)
        if sse is not None:
            params["SSESpecification"] = dict(sse)
        if tags:
            params["Tags"] = tag_list(tags)
        description: AwsDict = self.call("CreateTable", **params)["TableDescription"]
        return description

    def update_table(
        self,
        table_name: str,
        *,
        attribute_definitions: Sequence[Mapping[str, str]] | None = None,
        index_updates: Sequence[Mapping[str, Any]] | None = None,
        stream: Mapping[str, Any] | None = None,
        sse: Mapping[str, Any] | None = None,
        deletion_protection: bool | None = None,
        billing_mode: str | None = None,
    ) -> AwsDict:
        """One UpdateTable; only the arguments given are sent (AWS allows one index change per call)."""
        params: AwsDict = {"TableName": table_name}
        if attribute_definitions is not None:
            params["AttributeDefinitions"] = list(attribute_definitions)
        if index_updates is not None:
            params["GlobalSecondaryIndexUpdates"] = list(index_updates)
        if stream is not None:
            params["StreamSpecification"] = dict(stream)
        if sse is not None:
            params["SSESpecification"] = dict(sse)
        if deletion_protection is not None:
            params["DeletionProtectionEnabled"] = deletion_protection
        if billing_mode is not None:
            params["BillingMode"] = billing_mode
        if len(params) == 1:
            raise ValueError("update_table called with nothing to change")
        description: AwsDict = self.call("UpdateTable", **params)["TableDescription"]
        return description

    def delete_table(self, table_name: str) -> AwsDict:
        """Start deleting the table (it shows DELETING until gone)."""
        description: AwsDict = self.call("DeleteTable", TableName=table_name)["TableDescription"]
        return description

    def list_backups(self, table_name: str) -> list[AwsDict]:
        """Every backup of the table (on-demand, system and AWS Backup ones), following ``ExclusiveStartBackupArn``.

        Backups outlive their table, so this also answers for a table that is gone.
        """
        cursor = ("LastEvaluatedBackupArn", "ExclusiveStartBackupArn")
        return self.pages("ListBackups", "BackupSummaries", cursor, TableName=table_name, BackupType="ALL")

    def describe_time_to_live(self, table_name: str) -> AwsDict:
        """The ``TimeToLiveDescription`` (``TimeToLiveStatus`` and, once set, ``AttributeName``)."""
        description: AwsDict = self.call("DescribeTimeToLive", TableName=table_name).get("TimeToLiveDescription", {})
        return description

    def update_time_to_live(self, table_name: str, *, enabled: bool, attribute_name: str) -> AwsDict:
        """Enable or disable TTL; returns the ``TimeToLiveSpecification`` AWS answers with (what it accepted).

        AWS allows one TTL change per table per hour or so and answers a second one
        with a ValidationException: that is a wait, not a broken spec, so it is
        reported as Recoverable.
        """
        spec = {"Enabled": enabled, "AttributeName": attribute_name}
        try:
            response = self.call("UpdateTimeToLive", TableName=table_name, TimeToLiveSpecification=spec)
        except AwsTerminalError as exc:
            if exc.reason == "ValidationException" and "multiple times" in str(exc).lower():
                raise AwsRecoverableError(str(exc), reason="TimeToLiveCooldown") from None
            raise
        accepted: AwsDict = response.get("TimeToLiveSpecification") or {}
        return accepted

    def describe_continuous_backups(self, table_name: str) -> AwsDict:
        """The ``ContinuousBackupsDescription`` (PITR status and recovery period)."""
        description: AwsDict = self.call("DescribeContinuousBackups", TableName=table_name)[
            "ContinuousBackupsDescription"
        ]
        return description

    def update_continuous_backups(
        self, table_name: str, *, enabled: bool, recovery_period_days: int | None = None
    ) -> AwsDict:
        """Turn point-in-time recovery on (with its period, 1-35 days) or off.

        Returns the ``ContinuousBackupsDescription`` AWS answers with: the state after the change, the
        same shape DescribeContinuousBackups gives, so the caller need not read it again.
        """
        spec: AwsDict = {"PointInTimeRecoveryEnabled": enabled}
        if enabled and recovery_period_days is not None:
            spec["RecoveryPeriodInDays"] = recovery_period_days
        response = self.call("UpdateContinuousBackups", TableName=table_name, PointInTimeRecoverySpecification=spec)
        description: AwsDict = response.get("ContinuousBackupsDescription") or {}
        return description

    def get_item(
        self, table_name: str, key: Mapping[str, Mapping[str, Any]], *, consistent: bool = False
    ) -> AwsDict | None:
        """The item with this full primary key (AWS-typed, ``{"pk": {"S": "x"}}``), or None when there is none.

        The data-plane read of the latency probe: a key that matches nothing still costs one
        round trip and one read unit, which is exactly what the probe measures.
        """
        response = self.call("GetItem", TableName=table_name, Key=dict(key), ConsistentRead=consistent)
        item: AwsDict | None = response.get("Item")
        return item

    def query(
        self, table_name: str, key_name: str, key_value: Mapping[str, Any], *, index_name: str | None = None
    ) -> list[AwsDict]:
        """The first page (at most one item) of the items whose partition key ``key_name`` equals ``key_value``
        (AWS-typed, ``{"S": "x"}``), on the table or on one of its global secondary indexes."""
        params: AwsDict = {
            "TableName": table_name,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": key_name},
            "ExpressionAttributeValues": {":pk": dict(key_value)},
            "Limit": 1,
        }
        if index_name is not None:
            params["IndexName"] = index_name
        items: list[AwsDict] = self.call("Query", **params).get("Items", [])
        return items

    def list_tags_of_resource(self, arn: str) -> dict[str, str]:
        """All tags of a table, following NextToken. A repeated key keeps its last value."""
        tags: dict[str, str] = {}
        token: str | None = None
        seen: set[str] = set()
        while True:
            params: AwsDict = {"ResourceArn": arn}
            if token:
                params["NextToken"] = token
            page = self.call("ListTagsOfResource", **params)
            tags.update(tag_dict(page.get("Tags")))
            token = page.get("NextToken")
            if not token or token in seen:  # a repeated token would loop forever
                return tags
            seen.add(token)

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        """Add or overwrite tags."""
        if tags:
            self.call("TagResource", ResourceArn=arn, Tags=tag_list(tags))

    def untag_resource(self, arn: str, keys: Collection[str]) -> None:
        """Remove tags by key."""
        if keys:
            self.call("UntagResource", ResourceArn=arn, TagKeys=sorted(keys))
