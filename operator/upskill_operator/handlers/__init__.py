"""kopf handlers, registered into an explicit registry built from settings.

Building the registry from settings (rather than decorating at import) lets the
sandbox and the tests run operators with different settings in one process.
"""

from __future__ import annotations

import kopf

from upskill_operator.config import Settings
from upskill_operator.handlers import admission, lifecycle, migrations, probes, resource, secret, sweeper
from upskill_operator.models import KINDS
from upskill_operator.wiring.runtime import WIRING, Hooks

__all__ = ["IMPLEMENTED", "build_registry"]

IMPLEMENTED = tuple(kind for kind in KINDS if kind.kind in WIRING)


def build_registry(settings: Settings, hooks: Hooks | None = None) -> kopf.OperatorRegistry:
    """Every handler of the operator; ``hooks`` go to the runtime it builds at start-up (the test bed's)."""
    registry = kopf.OperatorRegistry()
    lifecycle.register(registry, settings, hooks)
    for info in IMPLEMENTED:
        resource.register(registry, info, settings)
        if settings.webhook_port:  # kopf refuses admission handlers without a webhook server
            admission.register(registry, info, settings)
    probes.register(registry, IMPLEMENTED)
    migrations.register(registry, IMPLEMENTED)
    secret.register(registry, settings)
    sweeper.register(registry, settings, IMPLEMENTED)
    return registry
