"""The RDS façade for clusters: DB subnet groups, Aurora clusters, their instances, snapshots and tags.

The proxy calls live in :mod:`.rds_proxy` (same service, same rate limiter). Arguments and results
are AWS-shaped dicts (``rds/2014-10-31``); the adapters normalise them. Every write that can take
``ApplyImmediately`` sends it: the operator never leaves a change for the maintenance window.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from upskill_operator.aws.codes import ClassifiedFacade
from upskill_operator.models.tags import tag_dict, tag_list

__all__ = ["ENGINE", "Rds", "RdsBase"]

AwsDict = dict[str, Any]
ENGINE = "aurora-postgresql"


class RdsBase(ClassifiedFacade):
    """What every RDS façade shares: the service, its error codes and the tagging calls."""

    service = "rds"
    iam_prefix = "rds"
    operations = frozenset({"ListTagsForResource", "AddTagsToResource", "RemoveTagsFromResource"})
    recoverable_codes = frozenset(
        {
            "InvalidDBClusterStateFault",
            "InvalidDBInstanceState",
            "InvalidDBInstanceStateFault",
            "InvalidDBProxyStateFault",
            "InvalidDBProxyEndpointStateFault",
            "InvalidDBSubnetGroupStateFault",
            "InvalidDBClusterSnapshotStateFault",
            # A create that lost a race with another writer (or with our own previous life): observe again.
            "DBClusterAlreadyExistsFault",
            "DBInstanceAlreadyExists",
            "DBSubnetGroupAlreadyExists",
            "DBProxyAlreadyExistsFault",
            "DBProxyEndpointAlreadyExistsFault",
        }
    )
    terminal_codes = frozenset(
        {
            "InvalidParameterValue",
            "InvalidParameterCombination",
            "DBSubnetGroupDoesNotCoverEnoughAZs",
            "InvalidSubnet",
            "InvalidVPCNetworkStateFault",
            "KMSKeyNotAccessibleFault",
            "StorageQuotaExceeded",
            "DBClusterQuotaExceededFault",
            "InstanceQuotaExceeded",
            "DBProxyQuotaExceeded",
            "DBClusterSnapshotAlreadyExistsFault",
            "InvalidRestoreFault",
            "SnapshotQuotaExceeded",
        }
    )

    def list_tags(self, arn: str) -> dict[str, str]:
        """The resource's tags as a dict."""
        return tag_dict(self.call("ListTagsForResource", ResourceName=arn).get("TagList"))

    def add_tags(self, arn: str, tags: Mapping[str, str]) -> None:
        if tags:
            self.call("AddTagsToResource", ResourceName=arn, Tags=tag_list(tags))

    def remove_tags(self, arn: str, keys: Collection[str]) -> None:
        if keys:
            self.call("RemoveTagsFromResource", ResourceName=arn, TagKeys=sorted(keys))


class Rds(RdsBase):
    """Typed calls for DB subnet groups, Aurora clusters, DB instances and cluster snapshots."""

    operations = RdsBase.operations | frozenset(
        {
            "CreateDBSubnetGroup",
            "DescribeDBSubnetGroups",
            "ModifyDBSubnetGroup",
            "DeleteDBSubnetGroup",
            "CreateDBCluster",
            "DescribeDBClusters",
            "ModifyDBCluster",
            "DeleteDBCluster",
            "DescribeDBClusterSnapshots",
            "CreateDBClusterSnapshot",
            "DeleteDBClusterSnapshot",
            "RestoreDBClusterFromSnapshot",
            "RestoreDBClusterToPointInTime",
            "CreateDBInstance",
            "DescribeDBInstances",
            "ModifyDBInstance",
            "DeleteDBInstance",
        }
    )

    # DB subnet groups ----------------------------------------------------------------------------

    def describe_subnet_group(self, name: str) -> AwsDict:
        """The ``DBSubnetGroup``; raises ``AwsNotFoundError`` when there is none."""
        group: AwsDict = self.call("DescribeDBSubnetGroups", DBSubnetGroupName=name)["DBSubnetGroups"][0]
        return group

    def create_subnet_group(
        self, name: str, *, description: str, subnet_ids: Collection[str], tags: Mapping[str, str]
    ) -> AwsDict:
        group: AwsDict = self.call(
            "CreateDBSubnetGroup",
            DBSubnetGroupName=name,
            DBSubnetGroupDescription=description,
            SubnetIds=sorted(subnet_ids),
            Tags=tag_list(tags),
        )["DBSubnetGroup"]
        return group

    def modify_subnet_group(self, name: str, *, subnet_ids: Collection[str]) -> None:
        self.call("ModifyDBSubnetGroup", DBSubnetGroupName=name, SubnetIds=sorted(subnet_ids))

    def delete_subnet_group(self, name: str) -> None:
        self.call("DeleteDBSubnetGroup", DBSubnetGroupName=name)

    # Clusters ------------------------------------------------------------------------------------

    def describe_cluster(self, identifier: str) -> AwsDict:
        """The ``DBCluster`` (with ``TagList``); raises ``AwsNotFoundError`` when there is none."""
        cluster: AwsDict = self.call("DescribeDBClusters", DBClusterIdentifier=identifier)["DBClusters"][0]
        return cluster

    def create_cluster(self, identifier: str, request: Mapping[str, Any]) -> AwsDict:
        """One CreateDBCluster with everything the cluster needs, tags included, so it is never untagged."""
        cluster: AwsDict = self.call("CreateDBCluster", DBClusterIdentifier=identifier, Engine=ENGINE, **request)[
            "DBCluster"
        ]
        return cluster

    def modify_cluster(self, identifier: str, changes: Mapping[str, Any]) -> None:
        """One ModifyDBCluster, applied immediately."""
        if not changes:
            raise ValueError("modify_cluster called with nothing to change")
        self.call("ModifyDBCluster", DBClusterIdentifier=identifier, ApplyImmediately=True, **changes)

    def delete_cluster(self, identifier: str, *, final_snapshot: str | None) -> None:
        """Delete the cluster, with a final snapshot unless ``final_snapshot`` is None."""
        if final_snapshot is None:
            self.call("DeleteDBCluster", DBClusterIdentifier=identifier, SkipFinalSnapshot=True)
        else:
            self.call(
                "DeleteDBCluster",
                DBClusterIdentifier=identifier,
                SkipFinalSnapshot=False,
                FinalDBSnapshotIdentifier=final_snapshot,
            )

    def describe_cluster_snapshot(self, identifier: str) -> AwsDict:
        """The ``DBClusterSnapshot``; raises ``AwsNotFoundError`` when there is none."""
        snapshot: AwsDict = self.call("DescribeDBClusterSnapshots", DBClusterSnapshotIdentifier=identifier)[
            "DBClusterSnapshots"
        ][0]
        return snapshot

    def list_cluster_snapshots(self, cluster_identifier: str) -> list[AwsDict]:
        """Every snapshot of the cluster (automated and manual, final snapshots too), following ``Marker``.

        AWS keeps a deleted cluster's manual snapshots, so this also answers for a cluster that is gone.
        """
        return self.pages(
            "DescribeDBClusterSnapshots",
            "DBClusterSnapshots",
            ("Marker", "Marker"),
            DBClusterIdentifier=cluster_identifier,
        )

    def list_manual_snapshots(self) -> list[AwsDict]:
        """Every manual cluster snapshot of the account and region (final snapshots are manual), with ``TagList``."""
        return self.pages(
            "DescribeDBClusterSnapshots", "DBClusterSnapshots", ("Marker", "Marker"), SnapshotType="manual"
        )

    def create_cluster_snapshot(self, cluster_identifier: str, snapshot: str, tags: Mapping[str, str]) -> AwsDict:
        """A manual snapshot of the cluster now, tagged (AWS copies no tags when the call gives some)."""
        found: AwsDict = self.call(
            "CreateDBClusterSnapshot",
            DBClusterIdentifier=cluster_identifier,
            DBClusterSnapshotIdentifier=snapshot,
            Tags=tag_list(tags),
        )["DBClusterSnapshot"]
        return found

    def delete_cluster_snapshot(self, snapshot: str) -> None:
        self.call("DeleteDBClusterSnapshot", DBClusterSnapshotIdentifier=snapshot)

    def restore_from_snapshot(self, identifier: str, snapshot: str, request: Mapping[str, Any]) -> AwsDict:
        """RestoreDBClusterFromSnapshot: the new cluster with the snapshot's data, tags included in the call."""
        cluster: AwsDict = self.call(
            "RestoreDBClusterFromSnapshot",
            DBClusterIdentifier=identifier,
            SnapshotIdentifier=snapshot,
            Engine=ENGINE,
            **request,
        )["DBCluster"]
        return cluster

    def restore_to_point_in_time(
        self, identifier: str, source: str, request: Mapping[str, Any], *, time: Any = None
    ) -> AwsDict:
        """RestoreDBClusterToPointInTime as a full copy, to ``time`` (a datetime) or, when None, the latest time."""
        when: dict[str, Any] = {"RestoreToTime": time} if time is not None else {"UseLatestRestorableTime": True}
        cluster: AwsDict = self.call(
            "RestoreDBClusterToPointInTime",
            DBClusterIdentifier=identifier,
            SourceDBClusterIdentifier=source,
            RestoreType="full-copy",
            **when,
            **request,
        )["DBCluster"]
        return cluster

    # Instances -----------------------------------------------------------------------------------

    def list_instances(self, cluster_identifier: str) -> list[AwsDict]:
        """Every DB instance of the cluster (with ``TagList``), following ``Marker``."""
        wanted = [{"Name": "db-cluster-id", "Values": [cluster_identifier]}]
        return self.pages("DescribeDBInstances", "DBInstances", ("Marker", "Marker"), Filters=wanted)

    def create_instance(
        self, identifier: str, *, cluster_identifier: str, instance_class: str, tags: Mapping[str, str]
    ) -> None:
        """A cluster member; Aurora decides whether it is the writer (the first one is)."""
        self.call(
            "CreateDBInstance",
            DBInstanceIdentifier=identifier,
            DBClusterIdentifier=cluster_identifier,
            Engine=ENGINE,
            DBInstanceClass=instance_class,
            PubliclyAccessible=False,
            AutoMinorVersionUpgrade=True,
            Tags=tag_list(tags),
        )

    def modify_instance(self, identifier: str, *, instance_class: str) -> None:
        self.call(
            "ModifyDBInstance", DBInstanceIdentifier=identifier, DBInstanceClass=instance_class, ApplyImmediately=True
        )

    def delete_instance(self, identifier: str) -> None:
        """Delete a cluster member (Aurora members take no final snapshot: the data is the cluster's)."""
        self.call("DeleteDBInstance", DBInstanceIdentifier=identifier)
