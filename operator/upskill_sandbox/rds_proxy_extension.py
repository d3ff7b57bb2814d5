"""RDS Proxy operations moto 5.2.5 lacks or gets wrong, served inside moto's own RDS dispatch.

Implemented (absent from moto: an HTTP 500 page): ``ModifyDBProxy``; the proxy endpoints are in
:mod:`.rds_endpoint_extension`. Fixed (a 500 or silent success in moto): every call on a missing
proxy answers ``DBProxyNotFoundFault``; registering a missing cluster answers
``DBClusterNotFoundFault``, an already registered one ``DBProxyTargetAlreadyRegisteredFault`` (moto
added a duplicate target); deregistering an unregistered one ``DBProxyTargetNotFoundFault``;
``MaxIdleConnectionsPercent: 0`` is kept (moto replaced it with half the maximum); ``DeleteDBProxy``
deletes the proxy's endpoints, as AWS does. Writes to a proxy still ``creating``/``modifying``
answer ``InvalidDBProxyStateFault``.
"""

from __future__ import annotations

import datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.rds.exceptions import DBClusterNotFoundError, RDSClientError

from upskill_sandbox import rds_endpoints as ep
from upskill_sandbox.rds_endpoint_extension import EndpointExtension
from upskill_sandbox.rds_pending import LOCK, hold, release, tick

__all__ = ["ProxyExtension"]


class ProxyExtension(EndpointExtension):
    """The proxy and its targets (the endpoint operations and proxy helpers come from the base)."""

    # The proxy ----------------------------------------------------------------------------------

    def create_db_proxy(self) -> ActionResult:
        with LOCK:
            result = super().create_db_proxy()
            if self._pending():
                proxy = self._proxy(self.params.get("DBProxyName"))
                proxy.status = "creating"
                hold(self.backend, "proxy", proxy.db_proxy_name, "creating", self._pending())
            return result

    def describe_db_proxies(self) -> ActionResult:
        with LOCK:
            name = self.params.get("DBProxyName")
            tick(self.backend, "proxy", [name] if name else None, self._show_proxy)
            return super().describe_db_proxies()

    def modify_db_proxy(self) -> ActionResult:
        with LOCK:
            params = self.params
            proxy = self._settled_proxy(params.get("DBProxyName"))
            timeout = params.get("IdleClientTimeout")
            if timeout is not None and not 1 <= int(timeout) <= 28800:
                raise RDSClientError("InvalidParameterValue", "IdleClientTimeout must be between 1 and 28800.")
            if params.get("Auth"):
                proxy.auth = list(params["Auth"])
            for wire, attribute in (
                ("RequireTLS", "require_tls"),
                ("IdleClientTimeout", "idle_client_timeout"),
                ("DebugLogging", "debug_logging"),
                ("RoleArn", "role_arn"),
                ("SecurityGroups", "vpc_security_group_ids"),
            ):
                if params.get(wire) is not None:
                    setattr(proxy, attribute, params[wire])
            proxy.updated_date = datetime.datetime.now(datetime.UTC)
            if self._pending():
                proxy.status = "modifying"
                hold(self.backend, "proxy", proxy.db_proxy_name, "modifying", self._pending())
            return ActionResult({"DBProxy": proxy})

    def delete_db_proxy(self) -> ActionResult:
        with LOCK:
            proxy = self._proxy(self.params.get("DBProxyName"))
            self.params["DBProxyName"] = proxy.db_proxy_name
            result = super().delete_db_proxy()
            store = ep.endpoints(self.backend)
            for name in [n for n, e in store.items() if e.proxy_name == proxy.db_proxy_name]:
                del store[name]
            release(self.backend, "proxy", proxy.db_proxy_name)
            proxy.status = "deleting"
            return result

    # Targets ------------------------------------------------------------------------------------

    def _registered(self, proxy: Any) -> set[str]:
        return {t.rds_resource_id.lower() for t in proxy.proxy_target_groups["default"].targets}

    def register_db_proxy_targets(self) -> ActionResult:
        with LOCK:
            proxy = self._settled_proxy(self.params.get("DBProxyName"))
            clusters = list(self.params.get("DBClusterIdentifiers") or [])
            for cluster in clusters:
                if cluster not in self.backend.clusters:
                    raise DBClusterNotFoundError(cluster)
                if cluster.lower() in self._registered(proxy):
                    raise RDSClientError(
                        "DBProxyTargetAlreadyRegisteredFault", f"The DB cluster {cluster} is already registered."
                    )
            result = super().register_db_proxy_targets()
            for cluster in clusters:
                hold(self.backend, "target", f"{proxy.db_proxy_name}/{cluster}", "REGISTERING", self._pending())
            return result

    def deregister_db_proxy_targets(self) -> ActionResult:
        with LOCK:
            proxy = self._proxy(self.params.get("DBProxyName"))
            for cluster in self.params.get("DBClusterIdentifiers") or []:
                if cluster.lower() not in self._registered(proxy):
                    raise RDSClientError("DBProxyTargetNotFoundFault", f"The DB cluster {cluster} is not registered.")
                release(self.backend, "target", f"{proxy.db_proxy_name}/{cluster}")
            return super().deregister_db_proxy_targets()

    def describe_db_proxy_targets(self) -> ActionResult:
        with LOCK:
            proxy = self._proxy(self.params.get("DBProxyName"))
            keys = [f"{proxy.db_proxy_name}/{cluster}" for cluster in self._registered(proxy)]
            tick(self.backend, "target", keys, self._show_target)
            return super().describe_db_proxy_targets()

    def describe_db_proxy_target_groups(self) -> ActionResult:
        with LOCK:
            self._proxy(self.params.get("DBProxyName"))
            return super().describe_db_proxy_target_groups()

    def modify_db_proxy_target_group(self) -> ActionResult:
        with LOCK:
            proxy = self._settled_proxy(self.params.get("DBProxyName"))
            config = self.params.get("ConnectionPoolConfig") or {}
            timeout = config.get("ConnectionBorrowTimeout")
            if timeout is not None and not 0 <= int(timeout) <= 3600:
                raise RDSClientError("InvalidParameterValue", "ConnectionBorrowTimeout must be between 0 and 3600.")
            result = super().modify_db_proxy_target_group()
            if config.get("MaxIdleConnectionsPercent") is not None:
                proxy.proxy_target_groups["default"].max_idle_connections = int(config["MaxIdleConnectionsPercent"])
            return result
