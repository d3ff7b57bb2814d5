"""The RDS Proxy: engine family POSTGRESQL, auth from the master secret (and the application users' secrets
of :mod:`.proxy_users`), TLS and idle client timeout.

Observe is DescribeDBProxies plus ListTagsForResource (the proxy API returns no tags). Auth,
``requireTLS``, the idle client timeout, the role and the security groups change in place with one
ModifyDBProxy; the engine family and the subnets cannot (conflicts). With ``proxy.enabled: false``
no proxy is created and one this operator created earlier is deleted (AWS deletes its endpoints).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.adapters.database.common import database_spec, desired_tags, names, naming, nested, tag_plan
from upskill_operator.adapters.database.proxy_users import ProxyUser
from upskill_operator.aws.errors import AwsTerminalError
from upskill_operator.aws.rds_proxy import RdsProxy
from upskill_operator.errors import NotFoundError, RecoverableError, TerminalError
from upskill_operator.models.tags import owner_of
from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Target

__all__ = ["ProxyAdapter", "ProxyObservation", "desired_auth", "proxy_changes"]


@dataclass(frozen=True)
class ProxyObservation(Observation):
    arn: str = ""
    changes: dict[str, Any] = field(default_factory=dict)
    tags_to_set: Mapping[str, str] = field(default_factory=dict)
    tags_to_remove: tuple[str, ...] = ()


def desired_auth(secret_arn: str, iam_auth: str, users: Sequence[ProxyUser] = ()) -> list[dict[str, Any]]:
    """The master user's secret (``spec.proxy.iamAuth``), then each application user's (its own ``auth``)."""
    entries = [(secret_arn, "master user (RDS-managed secret)", iam_auth == "Required")]
    entries += [(user.arn, f"application user (UpskillSecret {user.secret})", user.iam) for user in sorted(users)]
    return [
        {
            "AuthScheme": "SECRETS",
            "SecretArn": arn,
            "IAMAuth": "REQUIRED" if iam else "DISABLED",
            "Description": description,
        }
        for arn, description, iam in entries
    ]


def _auth_key(auth: list[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((a.get("AuthScheme"), a.get("SecretArn"), a.get("IAMAuth")) for a in auth)


def proxy_changes(
    have: Mapping[str, Any], want: Mapping[str, Any]
) -> tuple[tuple[str, ...], dict[str, Any], tuple[str, ...]]:
    """(diff, ModifyDBProxy arguments, conflicts) between a DescribeDBProxies entry and the desired fields.

    ``want`` holds the keys it knows: Auth, RoleArn, SecurityGroups, VpcSubnetIds, RequireTLS,
    IdleClientTimeout. Pure.
    """
    diff: list[str] = []
    changes: dict[str, Any] = {}
    conflicts: list[str] = []
    if have.get("EngineFamily") != "POSTGRESQL":
        conflicts.append(f"proxy: engine family {have.get('EngineFamily')} cannot change to POSTGRESQL")
    if "VpcSubnetIds" in want and sorted(have.get("VpcSubnetIds") or ()) != sorted(want["VpcSubnetIds"]):
        conflicts.append("spec.network: an RDS Proxy's subnets cannot change; the spec now selects other subnets")
    if "Auth" in want and _auth_key(have.get("Auth") or []) != _auth_key(want["Auth"]):
        diff.append("proxy auth (spec.proxy.iamAuth, application users)")
        changes["Auth"] = want["Auth"]
    for path, key, have_key in (
        ("spec.proxy.requireTLS", "RequireTLS", "RequireTLS"),
        ("spec.proxy.idleClientTimeoutSeconds", "IdleClientTimeout", "IdleClientTimeout"),
        ("proxy role", "RoleArn", "RoleArn"),
    ):
        if key in want and have.get(have_key) != want[key]:
            diff.append(path)
            changes[key] = want[key]
    if "SecurityGroups" in want and sorted(have.get("VpcSecurityGroupIds") or ()) != sorted(want["SecurityGroups"]):
        diff.append("spec.network (security groups)")
        changes["SecurityGroups"] = sorted(want["SecurityGroups"])
    if have.get("DebugLogging"):
        diff.append("debug logging")
        changes["DebugLogging"] = False
    return tuple(diff), changes, tuple(conflicts)


class ProxyAdapter:
    """Implements the reconcile ``Adapter`` protocol for the RDS Proxy."""

    name = "proxy"
    owner_field = "spec.clusterIdentifier"

    def __init__(self, proxies: RdsProxy, name_prefix: str) -> None:
        self.proxies = proxies
        self.name_prefix = name_prefix

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        wanted = database_spec(target).proxy.enabled
        name = names(target, self.name_prefix).proxy
        gone = {"proxyName": None, "proxyArn": None, "endpoints": nested(outputs, "endpoints", proxy=None)}
        try:
            proxy = self.proxies.describe_proxy(name)
            tags = self.proxies.list_tags(proxy["DBProxyArn"])
        except NotFoundError:
            return Observation(exists=False, up_to_date=True, outputs=gone) if not wanted else Observation.absent()
        owner = owner_of(tags)
        pending = None if proxy.get("Status") == "available" else f"proxy is {proxy.get('Status')}"
        if not wanted:
            if not target.is_ours(owner):
                return Observation(exists=False, up_to_date=True, outputs=gone)
            return ProxyObservation(
                exists=True,
                up_to_date=False,
                diff=("spec.proxy.enabled: false",),
                owner=owner,
                pending=pending,
                outputs=gone,
                arn=proxy["DBProxyArn"],
                unwanted=True,
            )
        diff, changes, conflicts = proxy_changes(proxy, self._desired(target, outputs))
        to_set, to_remove = tag_plan(target, tags)
        diff += ("tags",) if to_set or to_remove else ()
        named = naming(target, self.name_prefix, lambda n: n.proxy)
        return ProxyObservation(
            exists=True,
            up_to_date=not diff,
            diff=diff,
            pending=pending,
            owner=owner,
            naming=named,
            conflicts=conflicts,
            outputs=_outputs(proxy, outputs, settled=pending is None) if target.owns(owner, named) else {},
            arn=proxy["DBProxyArn"],
            changes=changes,
            tags_to_set=to_set,
            tags_to_remove=to_remove,
        )

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None:
        want = self._desired(target, outputs)
        missing = [k for k in ("Auth", "RoleArn", "VpcSubnetIds", "SecurityGroups") if k not in want]
        if missing:
            raise TerminalError(f"proxy: earlier steps did not provide {', '.join(missing)}", reason="MissingInput")
        try:
            self.proxies.create_proxy(
                names(target, self.name_prefix).proxy,
                auth=want["Auth"],
                role_arn=want["RoleArn"],
                subnet_ids=want["VpcSubnetIds"],
                security_group_ids=want["SecurityGroups"],
                require_tls=want["RequireTLS"],
                idle_client_timeout=want["IdleClientTimeout"],
                tags=desired_tags(target),
            )
        except AwsTerminalError as exc:
            if exc.reason == "InvalidParameterValue" and "role" in str(exc).lower():
                # IAM is eventually consistent: a role created seconds ago may not be assumable yet.
                raise RecoverableError(
                    f"proxy: the IAM role is not usable yet ({exc})", reason="RoleNotReady"
                ) from None
            raise

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None:
        if not isinstance(observed, ProxyObservation):
            return
        name = names(target, self.name_prefix).proxy
        if observed.changes:
            self.proxies.modify_proxy(name, observed.changes)
        self.proxies.remove_tags(observed.arn, observed.tags_to_remove)
        self.proxies.add_tags(observed.arn, observed.tags_to_set)

    def delete(self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy) -> None:
        self.proxies.delete_proxy(names(target, self.name_prefix).proxy)

    @staticmethod
    def _desired(target: Target, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """The desired fields whose inputs earlier steps published (all of them, except in teardown)."""
        proxy = database_spec(target).proxy
        want: dict[str, Any] = {"RequireTLS": proxy.require_tls, "IdleClientTimeout": proxy.idle_client_timeout_seconds}
        if outputs.get("masterUserSecretArn"):
            want["Auth"] = desired_auth(
                str(outputs["masterUserSecretArn"]), proxy.iam_auth, outputs.get("proxyUsers") or ()
            )
        if outputs.get("roleArn"):
            want["RoleArn"] = outputs["roleArn"]
        if outputs.get("subnetIds"):
            want["VpcSubnetIds"] = list(outputs["subnetIds"])
        if outputs.get("securityGroupIds"):
            want["SecurityGroups"] = list(outputs["securityGroupIds"])
        return want


def _outputs(proxy: Mapping[str, Any], outputs: Mapping[str, Any], *, settled: bool) -> dict[str, Any]:
    published = {
        "proxyName": proxy["DBProxyName"],
        "proxyArn": proxy["DBProxyArn"],
        "endpoints": nested(outputs, "endpoints", proxy=proxy.get("Endpoint")),
    }
    if settled:  # what an available proxy accepts, not what was asked: an UpskillSecret syncs once it is here
        master = outputs.get("masterUserSecretArn")
        published["proxyUserSecretArns"] = sorted(
            str(a["SecretArn"]) for a in proxy.get("Auth") or [] if a.get("SecretArn") and a["SecretArn"] != master
        )
    return published
