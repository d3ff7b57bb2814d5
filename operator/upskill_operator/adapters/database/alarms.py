"""The CloudWatch alarms of an UpskillDatabase: the cluster's, and the proxy's while it exists.

Aurora (``AWS/RDS``, ``DBClusterIdentifier``): CPU, connections, freeable memory, ACU utilization for
Serverless v2, replica lag when readers exist. RDS Proxy (``AWS/RDS``, ``ProxyName``): borrow latency
against the 100 ms objective, authentication failures, session-pinned connections. The identifiers come
from the cluster and proxy steps of this pass.
"""

from __future__ import annotations

from collections.abc import Mapping

from upskill_operator.adapters.database.cluster import ClusterObservation
from upskill_operator.adapters.database.common import database_spec, names
from upskill_operator.adapters.database.proxy import ProxyObservation
from upskill_operator.adapters.shared.alarm_plan import AlarmSource
from upskill_operator.adapters.shared.alarms import AlarmsAdapter
from upskill_operator.models.monitoring import DATABASE_ALARMS, AlarmOverride
from upskill_operator.reconcile.protocol import Steps, Target

__all__ = ["DatabaseAlarmsAdapter"]

_CLUSTER = ("cpu", "connections", "freeableMemory")
_PROXY = ("proxyBorrowLatency", "proxyAuthFailures", "proxyPinnedConnections")


class DatabaseAlarmsAdapter(AlarmsAdapter):
    """Implements the reconcile ``Adapter`` protocol for the alarms of a cluster and its proxy."""

    defaults = DATABASE_ALARMS

    def monitoring(self, target: Target) -> tuple[Mapping[str, AlarmOverride], tuple[str, ...]] | None:
        spec = database_spec(target).monitoring
        return None if spec is None else (spec.alarms.overrides(), tuple(spec.actions))

    def sources(self, target: Target, steps: Steps) -> list[AlarmSource]:
        spec = database_spec(target)
        n = names(target, self.name_prefix)
        cluster = steps.get_step(ClusterObservation)
        identifier = cluster.cluster.identifier if cluster and cluster.cluster else n.cluster
        kinds = list(_CLUSTER)
        if spec.capacity.serverless is not None:
            kinds.append("acuUtilization")
        if spec.capacity.read_replicas > 0:
            kinds.append("replicaLag")
        out = [AlarmSource(k, DATABASE_ALARMS[k], (("DBClusterIdentifier", identifier),)) for k in kinds]
        proxy = steps.get_step(ProxyObservation)
        if spec.proxy.enabled and proxy is not None and proxy.exists:
            out += [AlarmSource(k, DATABASE_ALARMS[k], (("ProxyName", n.proxy),)) for k in _PROXY]
        return out
