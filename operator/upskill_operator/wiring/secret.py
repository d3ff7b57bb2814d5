"""UpskillSecret: check the KMS key, resolve the source, then the Secrets Manager secret, the proxy's
acceptance (application users on a proxy endpoint), the CA ConfigMap (database sources), the
Kubernetes Secret, the restarts."""

from __future__ import annotations

from upskill_operator import endpoints
from upskill_operator.adapters.secret.ca_configmap import CaConfigMapAdapter
from upskill_operator.adapters.secret.database_source import (
    Address,
    DatabaseReader,
    EndpointResolver,
    app_tls,
    operator_tls,
)
from upskill_operator.adapters.secret.kube_secret import KubeSecretSyncAdapter
from upskill_operator.adapters.secret.proxy_access import ProxyAccessAdapter
from upskill_operator.adapters.secret.restart import RestartAdapter
from upskill_operator.adapters.secret.secrets_manager import SecretsManagerAdapter
from upskill_operator.adapters.secret.source import SourceAdapter, secret_spec
from upskill_operator.adapters.shared.kms_key import KmsKeyAdapter
from upskill_operator.aws.kms import Kms
from upskill_operator.aws.rds_passwords import RdsPasswords
from upskill_operator.aws.secretsmanager import SecretsManager
from upskill_operator.config import Settings
from upskill_operator.kube.custom_objects import CustomObjects
from upskill_operator.kube.secrets import KubeSecrets
from upskill_operator.kube.workloads import Workloads
from upskill_operator.reconcile.engine import Engine
from upskill_operator.wire_logs import quiet_wire_loggers
from upskill_operator.wiring.context import Context

__all__ = ["build", "endpoint_resolver"]


def endpoint_resolver(settings: Settings) -> EndpointResolver:
    """THE seam for database URLs: where apps connect for an endpoint of an UpskillDatabase's status.

    Against AWS ``Settings.endpoint_map`` is empty and the endpoint is used as is; the sandbox maps
    the emulated clusters' host names to its PostgreSQL (:func:`upskill_operator.endpoints.resolve`).
    """

    def resolve(host: str, port: int) -> Address:
        mapped_host, mapped_port = endpoints.resolve(host, port, settings)
        return Address(mapped_host, mapped_port, app_tls(settings.app_ca_path))

    return resolve


def build(ctx: Context) -> Engine:
    quiet_wire_loggers()  # the secret kind reads values: botocore and the Kubernetes client must never log bodies
    secrets = SecretsManager(ctx.aws)
    kube_secrets = KubeSecrets(ctx.kube)
    objects = CustomObjects(ctx.kube)
    rds = RdsPasswords(ctx.aws)
    database = DatabaseReader(
        objects,
        secrets,
        rds,
        endpoint_resolver(ctx.settings),
        region=ctx.settings.aws.region,
        admin_tls=operator_tls(ctx.settings.db_ca_bundle),
    )
    kms = Kms.in_own_account(ctx.aws)
    return ctx.engine(
        [
            KmsKeyAdapter(kms, "spec.kmsKeyId", lambda target: secret_spec(target).kms_key_id),
            SourceAdapter(kube_secrets, database),
            SecretsManagerAdapter(
                secrets, kms, rds, ctx.settings.name_prefix, value_seconds=6 * ctx.resync_seconds("UpskillSecret")
            ),
            ProxyAccessAdapter(objects),
            CaConfigMapAdapter(ctx.kube, ctx.settings.db_ca_bundle),
            KubeSecretSyncAdapter(kube_secrets),
            RestartAdapter(Workloads(ctx.kube)),
        ]
    )
