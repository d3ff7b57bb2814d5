"""The IAM role the RDS Proxy assumes to read the cluster's master secret.

Least privilege: the trust policy admits ``rds.amazonaws.com`` only, and the one inline policy
allows ``secretsmanager:GetSecretValue`` on the cluster's master secret ARN only, plus
``kms:Decrypt`` on the spec's KMS key through Secrets Manager when the secret is encrypted with it;
and on the secrets of the application users the proxy accepts (:mod:`.proxy_users`) and their keys.
No role is created when ``spec.proxy.roleArn`` names one or the proxy is disabled; a role this
operator created earlier is then deleted. Roles are created under the permissions boundary of
``UPSKILL_PROXY_ROLE_BOUNDARY_ARN`` (``manifests/iam/proxy-role-boundary.json``): the operator's
IAM policy allows no other (docs/iam.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.adapters.database.common import database_spec, desired_tags, names, naming, tag_plan
from upskill_operator.adapters.database.proxy_users import ProxyUser
from upskill_operator.adapters.shared.kms_key import spec_key_arn
from upskill_operator.aws.iam import Iam
from upskill_operator.aws.kms import Kms
from upskill_operator.errors import NotFoundError
from upskill_operator.models.tags import owner_of, tag_dict
from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Target

__all__ = ["POLICY_NAME", "ProxyRoleAdapter", "RoleObservation", "access_policy", "same_policy", "trust_policy"]

POLICY_NAME = "upskill-proxy-master-secret"


def trust_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }


def _decrypt(sid: str, keys: str | list[str], region: str) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": keys,
        "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
    }


def access_policy(
    secret_arn: str, kms_key_arn: str | None, region: str, users: Sequence[ProxyUser] = ()
) -> dict[str, Any]:
    """Read the master secret (and the application users' secrets the proxy accepts), nothing else."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadMasterSecret",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secret_arn,
        }
    ]
    if kms_key_arn:
        statements.append(_decrypt("DecryptMasterSecret", kms_key_arn, region))
    if users:
        statements.append(
            {
                "Sid": "ReadApplicationUserSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": sorted({user.arn for user in users}),
            }
        )
        keys = sorted({user.kms_key_arn for user in users if user.kms_key_arn and user.kms_key_arn != kms_key_arn})
        if keys:
            statements.append(_decrypt("DecryptApplicationUserSecrets", keys, region))
    return {"Version": "2012-10-17", "Statement": statements}


def _canonical(value: Any) -> Any:
    """Policies compare as data: one-element lists equal their element, list order does not matter."""
    if isinstance(value, Mapping):
        return tuple(sorted((k, _canonical(v)) for k, v in value.items()))
    if isinstance(value, list):
        items = sorted((_canonical(v) for v in value), key=repr)
        return items[0] if len(items) == 1 else tuple(items)
    return value


def same_policy(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    return a is not None and b is not None and _canonical(a) == _canonical(b)


@dataclass(frozen=True)
class RoleObservation(Observation):
    trust: bool = False
    policy: dict[str, Any] | None = None
    tags_to_set: Mapping[str, str] = field(default_factory=dict)
    tags_to_remove: tuple[str, ...] = ()


class ProxyRoleAdapter:
    """Implements the reconcile ``Adapter`` protocol for the proxy's IAM role."""

    name = "proxy role"
    owner_field = "spec.clusterIdentifier"

    def __init__(self, iam: Iam, kms: Kms, name_prefix: str, boundary_arn: str | None = None) -> None:
        self.iam = iam
        self.kms = kms
        self.name_prefix = name_prefix
        self.boundary_arn = boundary_arn

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        proxy = database_spec(target).proxy
        wanted = proxy.enabled and proxy.role_arn is None
        role_name = names(target, self.name_prefix).role
        try:
            role = self.iam.get_role(role_name)
        except NotFoundError:
            role = None
        owner = owner_of(tag_dict((role or {}).get("Tags")))
        if not wanted:
            given = {"roleArn": proxy.role_arn if proxy.enabled else None}
            if role is not None and target.is_ours(owner):
                return RoleObservation(
                    exists=True,
                    up_to_date=False,
                    diff=("spec.proxy (role no longer needed)",),
                    owner=owner,
                    outputs=given,
                    unwanted=True,
                )
            return Observation(exists=False, up_to_date=True, outputs=given)
        if role is None:
            return Observation.absent()
        tags = tag_dict(role.get("Tags"))
        to_set, to_remove = tag_plan(target, tags)
        trust = not same_policy(role.get("AssumeRolePolicyDocument"), trust_policy())
        policy = self._policy(target, outputs)
        if policy is not None and same_policy(self.iam.get_inline_policy(role_name, POLICY_NAME), policy):
            policy = None
        diff: tuple[str, ...] = ("trust policy",) if trust else ()
        diff += ("secret access policy",) if policy is not None else ()
        diff += ("tags",) if to_set or to_remove else ()
        named = naming(target, self.name_prefix, lambda n: n.role)
        return RoleObservation(
            exists=True,
            up_to_date=not diff,
            diff=diff,
            owner=owner,
            naming=named,
            outputs={"roleArn": role["Arn"]} if target.owns(owner, named) else {},
            trust=trust,
            policy=policy,
            tags_to_set=to_set,
            tags_to_remove=to_remove,
        )

    def create(self, target: Target, outputs: Mapping[str, Any]) -> None:
        """Create the role with its trust policy and tags, then its inline policy (update repairs a crash between)."""
        role_name = names(target, self.name_prefix).role
        self.iam.create_role(
            role_name,
            trust_policy=trust_policy(),
            description=f"RDS Proxy of {target.owner}: reads the master secret (upskill-operator)",
            tags=desired_tags(target),
            permissions_boundary=self.boundary_arn,
        )
        policy = self._policy(target, outputs)
        if policy is not None:
            self.iam.put_inline_policy(role_name, POLICY_NAME, policy)

    def update(self, target: Target, outputs: Mapping[str, Any], observed: Observation) -> None:
        role_name = names(target, self.name_prefix).role
        if not isinstance(observed, RoleObservation):
            return
        if observed.trust:
            self.iam.update_trust_policy(role_name, trust_policy())
        if observed.policy is not None:
            self.iam.put_inline_policy(role_name, POLICY_NAME, observed.policy)
        self.iam.untag_role(role_name, observed.tags_to_remove)
        self.iam.tag_role(role_name, observed.tags_to_set)

    def delete(self, target: Target, outputs: Mapping[str, Any], observed: Observation, policy: DeletionPolicy) -> None:
        self._delete(names(target, self.name_prefix).role)

    def _delete(self, role_name: str) -> None:
        self.iam.delete_inline_policy(role_name, POLICY_NAME)
        self.iam.delete_role(role_name)

    def _policy(self, target: Target, outputs: Mapping[str, Any]) -> dict[str, Any] | None:
        """The inline policy the role needs, or None before the master secret is known (teardown)."""
        secret = outputs.get("masterUserSecretArn")
        if not secret:
            return None
        key_id = database_spec(target).kms_key_id
        key_arn = spec_key_arn(self.kms, "spec.kmsKeyId", key_id) if key_id else None
        return access_policy(str(secret), key_arn, self.kms.region, outputs.get("proxyUsers") or ())
