"""The proxy's READ_ONLY endpoint, present while ``spec.proxy.readOnlyEndpoint`` is true.

Its target role and subnets cannot change (conflicts); its security groups change in place. When
the spec stops asking for it (say the readers went to zero) an endpoint this operator created is
deleted. This is the last step, so it also records the tag keys every object now carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.adapters.database.common import database_spec, desired_tags, names, naming, nested, tag_plan
from upskill_operator.aws.rds_proxy import RdsProxy
from upskill_operator.errors import NotFoundError, TerminalError
from upskill_operator.models.tags import keys_after, owner_of
from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Target

__all__ = ["EndpointObservation", "ProxyEndpointAdapter"]

READ_ONLY = "READ_ONLY"


@dataclass(frozen=True)
class EndpointObservation(Observation):
    arn: str = ""
    security_groups: tuple[str, ...] | None = None
    tags_to_set: Mapping[str, str] = field(default_factory=dict)
    tags_to_remove: tuple[str, ...] = ()


class ProxyEndpointAdapter:
    """Implements the reconcile ``Adapter`` protocol for the READ_ONLY proxy endpoint."""

    name = "proxy endpoint"
    owner_field = "spec.clusterIdentifier"

    def __init__(self, proxies: RdsProxy, name_prefix: str) -> None:
        self.proxies = proxies
        self.name_prefix = name_prefix

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        proxy = database_spec(target).proxy
        wanted = proxy.enabled and proxy.read_only_endpoint
        name = names(target, self.name_prefix).proxy_endpoint
        desired = desired_tags(target)
        gone = {
            "proxyEndpointName": None,
            "proxyEndpointArn": None,
            "endpoints": nested(outputs, "endpoints", proxyReadOnly=None),
            "managedTagKeys": sorted(desired),
        }
        if not proxy.enabled:  # no proxy, no endpoints: AWS deletes them with the proxy
            return Observation(exists=False, up_to_date=True, outputs=gone)
        try:
            endpoint = self.proxies.describe_endpoint(name)
            tags = self.proxies.list_tags(endpoint["DBProxyEndpointArn"])
        except NotFoundError:
            return Observation.absent() if wanted else Observation(exists=False, up_to_date=True, outputs=gone)
        owner = owner_of(tags)
        status = endpoint.get("Status", "available")
        pending = None if status == "available" else f"proxy endpoint is {status}"
        if not wanted:
            if not target.is_ours(owner):
                return Observation(exists=False, up_to_date=True, outputs=gone)
            return EndpointObservation(
                exists=True,
                up_to_date=False,
                diff=("spec.proxy.readOnlyEndpoint: false",),
                owner=owner,
                pending=pending,
                outputs=gone,
                arn=endpoint["DBProxyEndpointArn"],
                unwanted=True,
            )
        conflicts: list[str] = []
        if (
            endpoint.get("TargetRole") != READ_ONLY
            or endpoint.get("DBProxyName") != names(target, self.name_prefix).proxy
        ):
            conflicts.append(f"proxy endpoint {name}: exists with another proxy or role; delete it or rename")
        groups = sorted(outputs.get("securityGroupIds") or ())
        move = groups and sorted(endpoint.get("VpcSecurityGroupIds") or ()) != groups
        to_set, to_remove = tag_plan(target, tags)
        diff: tuple[str, ...] = ("spec.network (security groups)",) if move else ()
        diff += ("tags",) if to_set or to_remove else ()
        named = naming(target, self.name_prefix, lambda n: n.proxy_endpoint)
        outputs_now = {
            "proxyEndpointName": endpoint["DBProxyEndpointName"],
            "proxyEndpointArn": endpoint["DBProxyEndpointArn"],
            "endpoints": nested(outputs, "endpoints", proxyReadOnly=endpoint.get("Endpoint")),
            "managedTagKeys": list(keys_after(desired, to_remove)),
        }
        return EndpointObservation(
            exists=True,
            up_to_date=not diff,
            diff=diff,
            pending=pending,
            owner=owner,
            naming=named,
            conflicts=tuple(conflicts),
            outputs=outputs_now if target.owns(owner, named) else {},
            arn=endpoint["DBProxyEndpointArn"],
            security_groups=tuple(groups) if move else None,
            tags_to_set=to_set,
            tags_to_remove=to_remove,
        )

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None:
        subnets, groups = outputs.get("subnetIds"), outputs.get("securityGroupIds")
        if not subnets or not groups:
            raise TerminalError("proxy endpoint: the subnets or security groups are unknown", reason="MissingInput")
        n = names(target, self.name_prefix)
        self.proxies.create_endpoint(
            n.proxy_endpoint,
            proxy_name=n.proxy,
            subnet_ids=subnets,
            security_group_ids=groups,
            target_role=READ_ONLY,
            tags=desired_tags(target),
        )

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None:
        if not isinstance(observed, EndpointObservation):
            return
        name = names(target, self.name_prefix).proxy_endpoint
        if observed.security_groups is not None:
            self.proxies.modify_endpoint(name, security_group_ids=observed.security_groups)
        self.proxies.remove_tags(observed.arn, observed.tags_to_remove)
        self.proxies.add_tags(observed.arn, observed.tags_to_set)

    def delete(self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy) -> None:
        self.proxies.delete_endpoint(names(target, self.name_prefix).proxy_endpoint)
