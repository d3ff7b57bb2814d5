"""The RDS façade for proxies: the proxy, its default target group and targets, and its endpoints.

Registering a target that is already registered, or deregistering one that is not, is treated as
done: the operator may have crashed between the call and seeing its answer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from upskill_operator.aws.errors import AwsNotFoundError, AwsTerminalError
from upskill_operator.aws.rds import RdsBase
from upskill_operator.models.tags import tag_list

__all__ = ["DEFAULT_TARGET_GROUP", "RdsProxy"]

AwsDict = dict[str, Any]
DEFAULT_TARGET_GROUP = "default"


class RdsProxy(RdsBase):
    """Typed calls for RDS Proxy."""

    operations = RdsBase.operations | frozenset(
        {
            "CreateDBProxy",
            "DescribeDBProxies",
            "ModifyDBProxy",
            "DeleteDBProxy",
            "DescribeDBProxyTargetGroups",
            "ModifyDBProxyTargetGroup",
            "DescribeDBProxyTargets",
            "RegisterDBProxyTargets",
            "DeregisterDBProxyTargets",
            "CreateDBProxyEndpoint",
            "DescribeDBProxyEndpoints",
            "ModifyDBProxyEndpoint",
            "DeleteDBProxyEndpoint",
        }
    )

    # The proxy -----------------------------------------------------------------------------------

    def describe_proxy(self, name: str) -> AwsDict:
        """The ``DBProxy``; raises ``AwsNotFoundError`` when there is none."""
        proxy: AwsDict = self.call("DescribeDBProxies", DBProxyName=name)["DBProxies"][0]
        return proxy

    def create_proxy(
        self,
        name: str,
        *,
        auth: Sequence[Mapping[str, Any]],
        role_arn: str,
        subnet_ids: Collection[str],
        security_group_ids: Collection[str],
        require_tls: bool,
        idle_client_timeout: int,
        tags: Mapping[str, str],
    ) -> AwsDict:
        proxy: AwsDict = self.call(
            "CreateDBProxy",
            DBProxyName=name,
            EngineFamily="POSTGRESQL",
            Auth=[dict(a) for a in auth],
            RoleArn=role_arn,
            VpcSubnetIds=sorted(subnet_ids),
            VpcSecurityGroupIds=sorted(security_group_ids),
            RequireTLS=require_tls,
            IdleClientTimeout=idle_client_timeout,
            DebugLogging=False,
            Tags=tag_list(tags),
        )["DBProxy"]
        return proxy

    def modify_proxy(self, name: str, changes: Mapping[str, Any]) -> None:
        """One ModifyDBProxy (Auth, RequireTLS, IdleClientTimeout, RoleArn, SecurityGroups, DebugLogging)."""
        if not changes:
            raise ValueError("modify_proxy called with nothing to change")
        self.call("ModifyDBProxy", DBProxyName=name, **changes)

    def delete_proxy(self, name: str) -> None:
        """Delete the proxy; AWS deletes its endpoints with it."""
        self.call("DeleteDBProxy", DBProxyName=name)

    # Target group and targets --------------------------------------------------------------------

    def describe_default_target_group(self, proxy_name: str) -> AwsDict:
        group: AwsDict = self.call(
            "DescribeDBProxyTargetGroups", DBProxyName=proxy_name, TargetGroupName=DEFAULT_TARGET_GROUP
        )["TargetGroups"][0]
        return group

    def modify_default_target_group(self, proxy_name: str, pool: Mapping[str, Any]) -> None:
        """Set the connection pool (MaxConnectionsPercent, MaxIdleConnectionsPercent, ConnectionBorrowTimeout)."""
        self.call(
            "ModifyDBProxyTargetGroup",
            DBProxyName=proxy_name,
            TargetGroupName=DEFAULT_TARGET_GROUP,
            ConnectionPoolConfig=dict(pool),
        )

    def list_targets(self, proxy_name: str) -> list[AwsDict]:
        targets: list[AwsDict] = self.call(
            "DescribeDBProxyTargets", DBProxyName=proxy_name, TargetGroupName=DEFAULT_TARGET_GROUP
        ).get("Targets", [])
        return targets

    def register_cluster(self, proxy_name: str, cluster_identifier: str) -> None:
        try:
            self.call(
                "RegisterDBProxyTargets",
                DBProxyName=proxy_name,
                TargetGroupName=DEFAULT_TARGET_GROUP,
                DBClusterIdentifiers=[cluster_identifier],
            )
        except AwsTerminalError as exc:
            if exc.reason != "DBProxyTargetAlreadyRegisteredFault":
                raise

    def deregister_cluster(self, proxy_name: str, cluster_identifier: str) -> None:
        with contextlib.suppress(AwsNotFoundError):  # not registered (or no proxy): nothing to undo
            self.call(
                "DeregisterDBProxyTargets",
                DBProxyName=proxy_name,
                TargetGroupName=DEFAULT_TARGET_GROUP,
                DBClusterIdentifiers=[cluster_identifier],
            )

    # Endpoints -----------------------------------------------------------------------------------

    def describe_endpoint(self, name: str) -> AwsDict:
        """The ``DBProxyEndpoint``; raises ``AwsNotFoundError`` when there is none."""
        endpoint: AwsDict = self.call("DescribeDBProxyEndpoints", DBProxyEndpointName=name)["DBProxyEndpoints"][0]
        return endpoint

    def create_endpoint(
        self,
        name: str,
        *,
        proxy_name: str,
        subnet_ids: Collection[str],
        security_group_ids: Collection[str],
        target_role: str,
        tags: Mapping[str, str],
    ) -> None:
        self.call(
            "CreateDBProxyEndpoint",
            DBProxyName=proxy_name,
            DBProxyEndpointName=name,
            VpcSubnetIds=sorted(subnet_ids),
            VpcSecurityGroupIds=sorted(security_group_ids),
            TargetRole=target_role,
            Tags=tag_list(tags),
        )

    def modify_endpoint(self, name: str, *, security_group_ids: Collection[str]) -> None:
        self.call("ModifyDBProxyEndpoint", DBProxyEndpointName=name, VpcSecurityGroupIds=sorted(security_group_ids))

    def delete_endpoint(self, name: str) -> None:
        self.call("DeleteDBProxyEndpoint", DBProxyEndpointName=name)
