"""RDS Proxy endpoints, which moto 5.2.5 does not implement: the records and their AWS shape.

An endpoint is kept on the moto RDS backend of its account and region, next to moto's proxies,
so a reset clears both. :func:`wire` gives the ``DBProxyEndpoint`` structure of the RDS API
(``rds/2014-10-31``); the proxy's own default endpoint (``IsDefault``, ``READ_WRITE``) is listed
too, as AWS lists it.
"""

from __future__ import annotations

import datetime
import random
import re
import string
from dataclasses import dataclass, field
from typing import Any

from moto.rds.exceptions import RDSClientError

__all__ = [
    "ENDPOINTS_PER_PROXY",
    "ProxyEndpoint",
    "check_name",
    "default_endpoint",
    "endpoints",
    "new_endpoint",
    "not_found",
    "wire",
]

ENDPOINTS_PER_PROXY = 20
"""AWS's quota of additional endpoints per proxy."""

_NAME = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,62}(?<!-)$")
_ATTRIBUTE = "_upskill_proxy_endpoints"


@dataclass
class ProxyEndpoint:
    name: str
    arn: str
    proxy_name: str
    vpc_id: str
    subnet_ids: list[str]
    security_group_ids: list[str]
    target_role: str
    host: str
    created: datetime.datetime
    status: str = "available"
    tags: list[dict[str, str]] = field(default_factory=list)


def endpoints(backend: Any) -> dict[str, ProxyEndpoint]:
    """Endpoint name (lower case) -> record, for one account and region."""
    found: dict[str, ProxyEndpoint] = backend.__dict__.setdefault(_ATTRIBUTE, {})
    return found


def not_found(name: str) -> RDSClientError:
    return RDSClientError("DBProxyEndpointNotFoundFault", f"The DB proxy endpoint {name} doesn't exist.")


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise RDSClientError(
            "InvalidParameterValue",
            f"The parameter DBProxyEndpointName is not valid: {name!r}. It must be 1 to 63 letters, digits or "
            "hyphens, begin with a letter, and not contain two consecutive hyphens or end with a hyphen.",
        )


def new_endpoint(
    backend: Any, proxy: Any, name: str, subnets: list[str], groups: list[str], role: str
) -> ProxyEndpoint:
    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=17))  # ids, not secrets
    return ProxyEndpoint(
        name=name,
        arn=f"arn:{backend.partition}:rds:{backend.region_name}:{backend.account_id}:db-proxy-endpoint:"
        f"prx-endpoint-{suffix}",
        proxy_name=proxy.db_proxy_name,
        vpc_id=proxy.vpc_id,
        subnet_ids=subnets,
        security_group_ids=groups,
        target_role=role,
        host=f"{name}.endpoint.proxy-{proxy.url_identifier}.{backend.region_name}.rds.amazonaws.com",
        created=datetime.datetime.now(datetime.UTC),
    )


def wire(endpoint: ProxyEndpoint) -> dict[str, Any]:
    return {
        "DBProxyEndpointName": endpoint.name,
        "DBProxyEndpointArn": endpoint.arn,
        "DBProxyName": endpoint.proxy_name,
        "Status": endpoint.status,
        "VpcId": endpoint.vpc_id,
        "VpcSecurityGroupIds": list(endpoint.security_group_ids),
        "VpcSubnetIds": list(endpoint.subnet_ids),
        "Endpoint": endpoint.host,
        "CreatedDate": endpoint.created,
        "TargetRole": endpoint.target_role,
        "IsDefault": False,
    }


def default_endpoint(proxy: Any) -> dict[str, Any]:
    """The endpoint every proxy has: its own host name, read/write."""
    return {
        "DBProxyEndpointName": "default",
        "DBProxyEndpointArn": proxy.arn,
        "DBProxyName": proxy.db_proxy_name,
        "Status": proxy.status,
        "VpcId": proxy.vpc_id,
        "VpcSecurityGroupIds": list(proxy.vpc_security_group_ids),
        "VpcSubnetIds": list(proxy.vpc_subnet_ids),
        "Endpoint": proxy.endpoint,
        "CreatedDate": proxy.created_date,
        "TargetRole": "READ_WRITE",
        "IsDefault": True,
    }
