"""The proxy's target: the cluster registered in the default target group, and that group's pool.

Pool tuning is the default target group's ``ConnectionPoolConfig``: ``ConnectionBorrowTimeout``
(default 5 s here, 120 s in AWS), ``MaxConnectionsPercent`` and ``MaxIdleConnectionsPercent``
(AWS's default, half of the maximum, is sent explicitly so it is compared like any value). Target
groups carry no tags; the proxy's ownership covers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.adapters.database.common import database_spec, names
from upskill_operator.aws.rds_proxy import RdsProxy
from upskill_operator.errors import NotFoundError
from upskill_operator.models.database import ProxySpec
from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Target

__all__ = ["ProxyTargetAdapter", "TargetObservation", "pool_config"]


def pool_config(proxy: ProxySpec) -> dict[str, int]:
    idle = proxy.max_idle_connections_percent
    return {
        "MaxConnectionsPercent": proxy.max_connections_percent,
        "MaxIdleConnectionsPercent": idle if idle is not None else proxy.max_connections_percent // 2,
        "ConnectionBorrowTimeout": proxy.borrow_timeout_seconds,
    }


_PATHS = {
    "MaxConnectionsPercent": "spec.proxy.maxConnectionsPercent",
    "MaxIdleConnectionsPercent": "spec.proxy.maxIdleConnectionsPercent",
    "ConnectionBorrowTimeout": "spec.proxy.borrowTimeoutSeconds",
}


@dataclass(frozen=True)
class TargetObservation(Observation):
    pool: dict[str, int] = field(default_factory=dict)


class ProxyTargetAdapter:
    """Implements the reconcile ``Adapter`` protocol for the cluster as the proxy's target."""

    name = "proxy target"
    owner_field = None

    def __init__(self, proxies: RdsProxy, name_prefix: str) -> None:
        self.proxies = proxies
        self.name_prefix = name_prefix

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        spec = database_spec(target).proxy
        if not spec.enabled or target.deleting:
            # Deleting the proxy takes its targets with it; deregistering first would touch the proxy with
            # our name before the proxy step (later in a teardown) has checked that the proxy is ours.
            return Observation(exists=False, up_to_date=True)
        n = names(target, self.name_prefix)
        try:
            targets = self.proxies.list_targets(n.proxy)
            group = self.proxies.describe_default_target_group(n.proxy)
        except NotFoundError:
            return Observation.absent()
        ours = [t for t in targets if t.get("Type") == "TRACKED_CLUSTER" and t.get("RdsResourceId") == n.cluster]
        if not ours:
            return Observation.absent()
        state = (ours[0].get("TargetHealth") or {}).get("State", "AVAILABLE")
        pending = f"cluster {n.cluster} is {state.lower()} with the proxy" if state == "REGISTERING" else None
        if group.get("Status", "available") != "available":
            pending = f"proxy target group is {group.get('Status')}"
        have = group.get("ConnectionPoolConfig") or {}
        want = pool_config(spec)
        diff = tuple(_PATHS[k] for k, v in want.items() if have.get(k) != v)
        return TargetObservation(exists=True, up_to_date=not diff, diff=diff, pending=pending, pool=want)

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None:
        n = names(target, self.name_prefix)
        self.proxies.register_cluster(n.proxy, n.cluster)

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None:
        pool = observed.pool if isinstance(observed, TargetObservation) else pool_config(database_spec(target).proxy)
        self.proxies.modify_default_target_group(names(target, self.name_prefix).proxy, pool)

    def delete(self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy) -> None:
        n = names(target, self.name_prefix)
        self.proxies.deregister_cluster(n.proxy, n.cluster)
