"""UpskillDatabase: the KMS key check, network, cluster, instances, then the proxy's users, role, proxy, target
and endpoint, then the CloudWatch alarms.

The order is the dependency order of creation (the engine deletes in reverse): a named KMS key
must exist before anything is created (a read-only step), and so must a restore source (snapshot or
point in time, checked by another read-only step); the subnet group and security group
come first because the cluster is created inside them; the proxy users step finds the secrets of
application users the proxy must accept (UpskillSecrets naming a user on a proxy endpoint), which
the role must be able to read; the proxy needs the role and the cluster's master secret; the
target needs the proxy and the cluster; the read-only endpoint needs the proxy; the alarms name the
cluster and proxy. Each step publishes what the next ones use (VPC, subnets, security groups, master
secret, role, users), and its part of ``status``.
"""

from __future__ import annotations

from typing import Any

from upskill_operator.adapters.database.alarms import DatabaseAlarmsAdapter
from upskill_operator.adapters.database.cluster import ClusterAdapter
from upskill_operator.adapters.database.common import database_spec
from upskill_operator.adapters.database.instances import InstancesAdapter
from upskill_operator.adapters.database.proxy import ProxyAdapter
from upskill_operator.adapters.database.proxy_endpoint import ProxyEndpointAdapter
from upskill_operator.adapters.database.proxy_role import ProxyRoleAdapter
from upskill_operator.adapters.database.proxy_target import ProxyTargetAdapter
from upskill_operator.adapters.database.proxy_users import ProxyUsersAdapter
from upskill_operator.adapters.database.restore_source import RestoreSourceAdapter
from upskill_operator.adapters.database.security_group import SecurityGroupAdapter
from upskill_operator.adapters.database.snapshots import SnapshotsAdapter
from upskill_operator.adapters.database.subnet_group import SubnetGroupAdapter
from upskill_operator.adapters.shared.cadenced import Cadenced
from upskill_operator.adapters.shared.kms_key import KmsKeyAdapter
from upskill_operator.adapters.shared.read_memory import Memory
from upskill_operator.aws.cloudwatch import CloudWatch
from upskill_operator.aws.ec2 import Ec2
from upskill_operator.aws.iam import Iam
from upskill_operator.aws.kms import Kms
from upskill_operator.aws.rds import Rds
from upskill_operator.aws.rds_proxy import RdsProxy
from upskill_operator.aws.secretsmanager import SecretsManager
from upskill_operator.kube.custom_objects import CustomObjects
from upskill_operator.models import database, secret
from upskill_operator.models.common import API_GROUP, API_VERSION
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.protocol import Adapter, ObservationT
from upskill_operator.wiring.context import Context

__all__ = ["build"]


def build(ctx: Context) -> Engine:
    prefix = ctx.settings.name_prefix
    rds, proxies, ec2, kms = Rds(ctx.aws), RdsProxy(ctx.aws), Ec2(ctx.aws), Kms.in_own_account(ctx.aws)
    objects = CustomObjects(ctx.kube)

    def list_secrets(namespace: str) -> list[dict[str, Any]]:
        return objects.list(API_GROUP, API_VERSION, namespace, secret.KIND.plural)

    def get_database(namespace: str, name: str) -> dict[str, Any] | None:
        return objects.get(API_GROUP, API_VERSION, namespace, database.KIND.plural, name)

    deep = ctx.deep_reads("UpskillDatabase")

    def slow(adapter: Adapter[ObservationT]) -> Cadenced[ObservationT]:
        """Observed deeply every ``deep_read_every`` passes, or when the spec or an earlier step changes."""
        return Cadenced(adapter, Memory[ObservationT](deep.max_age, max_uses=deep.max_uses))

    return ctx.engine(
        [
            KmsKeyAdapter(kms, "spec.kmsKeyId", lambda target: database_spec(target).kms_key_id),
            RestoreSourceAdapter(rds, kms, prefix, get_database),  # before anything is created
            slow(SubnetGroupAdapter(rds, ec2, prefix)),
            slow(SecurityGroupAdapter(ec2, prefix)),
            ClusterAdapter(rds, kms, prefix),  # the cheap reads, every pass: the data and its instances
            InstancesAdapter(rds, prefix),
            SnapshotsAdapter(rds, prefix),  # on-demand snapshots, once the cluster is available
            ProxyUsersAdapter(list_secrets, SecretsManager(ctx.aws), kms),
            slow(ProxyRoleAdapter(Iam(ctx.aws), kms, prefix, ctx.settings.proxy_role_boundary_arn)),
            slow(ProxyAdapter(proxies, prefix)),
            slow(ProxyTargetAdapter(proxies, prefix)),
            slow(ProxyEndpointAdapter(proxies, prefix)),
            DatabaseAlarmsAdapter(CloudWatch(ctx.aws), prefix, ctx.alarm_reads, ctx.alarm_max_age("UpskillDatabase")),
        ]
    )
