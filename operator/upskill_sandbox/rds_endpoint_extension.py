"""RDS Proxy endpoints, served inside moto's RDS dispatch (moto 5.2.5 answers them with an HTTP 500).

Implemented with AWS's shapes and error codes: ``CreateDBProxyEndpoint``, ``DescribeDBProxyEndpoints``
(the proxy's default endpoint listed too), ``ModifyDBProxyEndpoint``, ``DeleteDBProxyEndpoint`` and
tags on endpoint ARNs. Errors: ``DBProxyNotFoundFault``, ``DBProxyEndpointNotFoundFault``,
``DBProxyEndpointAlreadyExistsFault``, ``DBProxyEndpointQuotaExceededFault`` (20 per proxy),
``InvalidParameterValue`` (name rules), ``InvalidSubnet`` (subnets outside the proxy's VPC),
``InvalidDBProxyStateFault`` (proxy not available) and ``InvalidDBProxyEndpointStateFault``. The
records live in :mod:`.rds_endpoints`; this class also holds the proxy helpers the proxy side uses.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.models import ec2_backends
from moto.rds.exceptions import DBProxyNotFoundFault, RDSClientError
from moto.rds.responses import RDSResponse

from upskill_sandbox import rds_endpoints as ep
from upskill_sandbox.rds_pending import LOCK, held_state, hold, tick

__all__ = ["EndpointExtension"]


def tags_of(params: Any) -> list[dict[str, str]]:
    return [{"Key": t["Key"], "Value": t.get("Value", "")} for t in params.get("Tags") or []]


class EndpointExtension(RDSResponse):
    emulation: Any  # an RdsEmulation, set by make_rds_response

    # Helpers ------------------------------------------------------------------------------------

    def _proxy(self, name: str | None) -> Any:
        for key, proxy in self.backend.db_proxies.items():
            if name and key.lower() == name.lower():
                return proxy
        raise DBProxyNotFoundFault(name or "")

    def _settled_proxy(self, name: str | None) -> Any:
        proxy = self._proxy(name)
        state = held_state(self.backend, "proxy", proxy.db_proxy_name)
        if state:
            raise RDSClientError("InvalidDBProxyStateFault", f"DB proxy {name} is {state}, not available.")
        return proxy

    def _endpoint(self, name: str | None) -> ep.ProxyEndpoint:
        found = ep.endpoints(self.backend).get((name or "").lower())
        if found is None:
            raise ep.not_found(name or "")
        return found

    def _show_proxy(self, name: str, state: str | None) -> None:
        proxy = next((p for k, p in self.backend.db_proxies.items() if k.lower() == name), None)
        if proxy is not None:
            proxy.status = state or "available"

    def _show_target(self, key: str, state: str | None) -> None:
        proxy_name, _, cluster = key.partition("/")
        proxy = next((p for k, p in self.backend.db_proxies.items() if k.lower() == proxy_name), None)
        for target in proxy.proxy_target_groups["default"].targets if proxy else []:
            if target.rds_resource_id.lower() == cluster:
                target._registering = state is not None

    def _show_endpoint(self, name: str, state: str | None) -> None:
        store = ep.endpoints(self.backend)
        found = store.get(name)
        if found is not None and state is None and found.status == "deleting":
            del store[name]
        elif found is not None:
            found.status = state or "available"

    def _pending(self) -> int:
        return int(self.emulation.pending_describes)

    # Endpoints ----------------------------------------------------------------------------------

    def create_db_proxy_endpoint(self) -> ActionResult:
        with LOCK:
            params = self.params
            name = params.get("DBProxyEndpointName") or ""
            ep.check_name(name)
            proxy = self._settled_proxy(params.get("DBProxyName"))
            store = ep.endpoints(self.backend)
            if name.lower() in store:
                raise RDSClientError("DBProxyEndpointAlreadyExistsFault", f"The DB proxy endpoint {name} exists.")
            if sum(1 for e in store.values() if e.proxy_name == proxy.db_proxy_name) >= ep.ENDPOINTS_PER_PROXY:
                raise RDSClientError("DBProxyEndpointQuotaExceededFault", "Too many endpoints for this proxy.")
            subnets = list(params.get("VpcSubnetIds") or [])
            ec2 = ec2_backends[self.current_account][self.region]
            known = {s.id: s.vpc_id for s in ec2.describe_subnets()}
            if not subnets or any(known.get(s) != proxy.vpc_id for s in subnets):
                raise RDSClientError("InvalidSubnet", f"Subnets must exist in the proxy's VPC {proxy.vpc_id}.")
            groups = list(params.get("VpcSecurityGroupIds") or [])
            if not groups:
                default = ec2.get_default_security_group(proxy.vpc_id)
                groups = [default.id] if default is not None else []
            endpoint = ep.new_endpoint(
                self.backend, proxy, name, subnets, groups, params.get("TargetRole") or "READ_WRITE"
            )
            endpoint.tags = tags_of(params)
            store[name.lower()] = endpoint
            if self._pending():
                endpoint.status = "creating"
                hold(self.backend, "endpoint", name, "creating", self._pending())
            return ActionResult({"DBProxyEndpoint": ep.wire(endpoint)})

    def describe_db_proxy_endpoints(self) -> ActionResult:
        with LOCK:
            proxy_name, name = self.params.get("DBProxyName"), self.params.get("DBProxyEndpointName")
            proxies = [self._proxy(proxy_name)] if proxy_name else list(self.backend.db_proxies.values())
            names = {p.db_proxy_name for p in proxies}
            covered = [name] if name else [e.name for e in ep.endpoints(self.backend).values() if e.proxy_name in names]
            tick(self.backend, "endpoint", covered, self._show_endpoint)
            if name:
                found = self._endpoint(name)
                if proxy_name and found.proxy_name != proxies[0].db_proxy_name:
                    raise ep.not_found(name)
                return ActionResult({"DBProxyEndpoints": [ep.wire(found)]})
            listed = [ep.default_endpoint(p) for p in proxies]
            listed += [ep.wire(e) for e in ep.endpoints(self.backend).values() if e.proxy_name in names]
            return ActionResult({"DBProxyEndpoints": listed})

    def modify_db_proxy_endpoint(self) -> ActionResult:
        with LOCK:
            endpoint = self._endpoint(self.params.get("DBProxyEndpointName"))
            state = held_state(self.backend, "endpoint", endpoint.name) or (
                "deleting" if endpoint.status == "deleting" else None
            )
            if state:
                raise RDSClientError("InvalidDBProxyEndpointStateFault", f"Endpoint {endpoint.name} is {state}.")
            if self.params.get("VpcSecurityGroupIds"):
                endpoint.security_group_ids = list(self.params["VpcSecurityGroupIds"])
            new_name = self.params.get("NewDBProxyEndpointName")
            if new_name:
                ep.check_name(new_name)
                store = ep.endpoints(self.backend)
                del store[endpoint.name.lower()]
                endpoint.name = new_name
                store[new_name.lower()] = endpoint
            if self._pending():
                endpoint.status = "modifying"
                hold(self.backend, "endpoint", endpoint.name, "modifying", self._pending())
            return ActionResult({"DBProxyEndpoint": ep.wire(endpoint)})

    def delete_db_proxy_endpoint(self) -> ActionResult:
        with LOCK:
            endpoint = self._endpoint(self.params.get("DBProxyEndpointName"))
            if endpoint.status == "deleting":
                raise RDSClientError("InvalidDBProxyEndpointStateFault", f"Endpoint {endpoint.name} is deleting.")
            endpoint.status = "deleting"
            answer = ep.wire(endpoint)
            if self._pending():
                hold(self.backend, "endpoint", endpoint.name, "deleting", self._pending())
            else:
                del ep.endpoints(self.backend)[endpoint.name.lower()]
            return ActionResult({"DBProxyEndpoint": answer})

    # Tags on endpoint ARNs ----------------------------------------------------------------------

    def _endpoint_by_arn(self) -> ep.ProxyEndpoint | None:
        arn = self.params.get("ResourceName") or ""
        if ":db-proxy-endpoint:" not in arn:
            return None
        for endpoint in ep.endpoints(self.backend).values():
            if endpoint.arn == arn:
                return endpoint
        raise ep.not_found(arn)

    def list_tags_for_resource(self) -> ActionResult:
        with LOCK:
            endpoint = self._endpoint_by_arn()
            if endpoint is None:
                return super().list_tags_for_resource()
            return ActionResult({"TagList": list(endpoint.tags)})

    def add_tags_to_resource(self) -> ActionResult:
        with LOCK:
            endpoint = self._endpoint_by_arn()
            if endpoint is None:
                return super().add_tags_to_resource()
            new = {t["Key"]: t["Value"] for t in tags_of(self.params)}
            endpoint.tags = [t for t in endpoint.tags if t["Key"] not in new]
            endpoint.tags += [{"Key": k, "Value": v} for k, v in new.items()]
            return EmptyResult()

    def remove_tags_from_resource(self) -> ActionResult:
        with LOCK:
            endpoint = self._endpoint_by_arn()
            if endpoint is None:
                return super().remove_tags_from_resource()
            keys = set(self.params.get("TagKeys") or [])
            endpoint.tags = [t for t in endpoint.tags if t["Key"] not in keys]
            return EmptyResult()
