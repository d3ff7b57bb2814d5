"""Which probers a probed resource gets, built from its spec and status.

* UpskillTable: one DynamoDB GetItem on a key no app uses (``upskill-probe``), once the table exists.
* UpskillDatabase: ``SELECT 1`` through the proxy's read/write endpoint and, where it exists, its
  read-only endpoint (the cluster endpoints when there is no proxy), once status.endpoints has
  them; host mapping, TLS and credentials as :mod:`upskill_operator.adapters.database.connection` says.

:func:`plan_for` returns a :class:`ProbePlan` whose ``key`` changes whenever a prober would
change (an endpoint moved, the spec changed), so the daemon rebuilds its pools only then.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from upskill_operator.adapters.database.connection import DbConnection, connections
from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.session import AwsClients
from upskill_operator.config import Settings
from upskill_operator.errors import OperatorError
from upskill_operator.models.database import DatabaseSpec, ProbeSpec
from upskill_operator.models.table import TableSpec
from upskill_operator.probes.dynamodb import TableProber, table_probe_key
from upskill_operator.probes.offload import Offload, in_thread
from upskill_operator.probes.postgres import ConnectKwargs, PostgresProber
from upskill_operator.probes.window import ProbeFailure, Prober, ProbeSettings

__all__ = ["ProbePlan", "plan_for"]


@dataclass(frozen=True)
class ProbePlan:
    key: tuple[Any, ...]
    """Everything the probers depend on; a different key means different probers."""
    settings: ProbeSettings
    build: Callable[[], Sequence[Prober]]


def _settings(spec: Any, settings: Settings, force: bool = False) -> ProbeSettings | None:
    probe = getattr(spec, "probe", None)
    if probe is None and force:
        probe = ProbeSpec()
    if probe is None:
        return None
    interval = settings.probe_interval_seconds or float(probe.interval_seconds)
    return ProbeSettings(
        interval_seconds=interval,
        slo_seconds=probe.slo_milliseconds / 1000,
        timeout_seconds=settings.probe_timeout_seconds,
    )


def _table_plan(
    body: Mapping[str, Any], settings: Settings, aws: AwsClients, force: bool, offload: Offload
) -> ProbePlan | None:
    spec = TableSpec.model_validate(dict(body.get("spec") or {}))
    table_name = (body.get("status") or {}).get("tableName")
    probe = _settings(spec, settings, force)
    if probe is None or not table_name:
        return None
    key = table_probe_key(spec)
    return ProbePlan(
        ("table", table_name, json.dumps(key, default=str, sort_keys=True), probe),
        probe,
        lambda: [TableProber(DynamoDB(aws), table_name, key, offload)],
    )


def _async_kwargs(connection: DbConnection, offload: Offload) -> ConnectKwargs:
    async def kwargs() -> dict[str, Any]:
        try:
            return await offload(connection.password_kwargs)
        except OperatorError as exc:
            raise ProbeFailure("auth", f"no credentials: {exc}") from None

    return kwargs


def _database_plan(
    body: Mapping[str, Any], settings: Settings, aws: AwsClients, force: bool, offload: Offload
) -> ProbePlan | None:
    spec = DatabaseSpec.model_validate(dict(body.get("spec") or {}))
    probe = _settings(spec, settings, force)
    if probe is None:
        return None
    metadata = body.get("metadata") or {}
    owner = f"{metadata.get('namespace') or ''}/{metadata.get('name') or ''}"
    try:
        targets = connections(spec, body.get("status") or {}, settings, aws, owner=owner)
    except OperatorError:
        return None  # credentials not known yet: try again next round
    if not targets:
        return None

    def build() -> list[Prober]:
        return [
            PostgresProber(
                t.label, t.conninfo, connect_kwargs=_async_kwargs(t, offload), timeout_seconds=probe.timeout_seconds
            )
            for t in targets
        ]

    auth = (spec.proxy.enabled, spec.proxy.iam_auth, (body.get("status") or {}).get("masterUserSecretArn"))
    return ProbePlan(("database", tuple(t.conninfo for t in targets), auth, probe), probe, build)


_PLANS: dict[str, Callable[[Mapping[str, Any], Settings, AwsClients, bool, Offload], ProbePlan | None]] = {
    "UpskillTable": _table_plan,
    "UpskillDatabase": _database_plan,
}


def plan_for(
    kind: str,
    body: Mapping[str, Any],
    settings: Settings,
    aws: AwsClients,
    *,
    force: bool = False,
    offload: Offload = in_thread,
) -> ProbePlan | None:
    """The probe plan of a resource, or None while it should not be probed (no spec.probe, nothing to reach).

    ``force`` probes a resource without spec.probe too, with the default objective (``check``).
    ``offload`` runs the probers' blocking calls (GetItem, credentials); the probe loops pass their own pool.
    """
    make = _PLANS.get(kind)
    if make is None:
        return None
    try:
        return make(body, settings, aws, force, offload)
    except ValidationError:
        return None  # the reconcile handler reports the invalid spec
