"""Build the process-wide clients and one engine per implemented kind, once per operator process."""

from __future__ import annotations

from dataclasses import dataclass, field

from upskill_operator.aws.session import AwsClients
from upskill_operator.config import Settings
from upskill_operator.kube.client import Kube, load_configuration
from upskill_operator.models import table
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.wiring import database as database_wiring
from upskill_operator.reconcile.wiring import secret as secret_wiring
from upskill_operator.reconcile.wiring import table as table_wiring
from upskill_operator.reconcile.wiring.context import Context

__all__ = ["WIRING", "Runtime", "build_runtime"]

WIRING = {
    table.KIND.kind: table_wiring.build,
    "UpskillSecret": secret_wiring.build,
    "UpskillDatabase": database_wiring.build,
}
"""Kind name -> engine builder. A kind is served by the operator when it is listed here."""


@dataclass
class Runtime:
    """Process-wide collaborators, created at start-up and closed at shutdown."""

    settings: Settings
    aws: AwsClients
    kube: Kube
    engines: dict[str, Engine] = field(default_factory=dict)

    def close(self) -> None:
        self.kube.close()


def build_runtime(settings: Settings) -> Runtime:
    aws = AwsClients(settings.aws)
    kube = Kube(load_configuration(settings.kubeconfig))
    ctx = Context(settings=settings, aws=aws, kube=kube)
    return Runtime(settings=settings, aws=aws, kube=kube, engines={kind: build(ctx) for kind, build in WIRING.items()})
