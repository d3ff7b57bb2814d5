"""Whether an UpskillSecret needs a pass now, judged from its status alone (no API call).

The resync timer runs every ``resync_seconds`` for all kinds; a secret has its own clocks:
``target.refreshIntervalSeconds`` (compare the Kubernetes Secret with Secrets Manager, follow a
database's new credentials or endpoints) and ``status.nextRotationTime``. The secret handler's
short tick asks :func:`due` and runs a pass only when something is due, so idle secrets cost
nothing between resyncs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from upskill_operator.adapters.secret.rotation_plan import parse_time
from upskill_operator.models.secret import ROTATE_ANNOTATION, SecretSpec

__all__ = ["due"]

DEFAULT_REFRESH_SECONDS = 300


def due(spec: SecretSpec, status: Mapping[str, Any], annotations: Mapping[str, str], now: dt.datetime) -> str | None:
    """What is due (``refresh``, ``rotation``, ``rotation requested``), or None."""
    if not status.get("arn"):
        return None  # never synced yet: the create/update handlers and their retries own it
    request = annotations.get(ROTATE_ANNOTATION)
    if request and request != status.get("rotationRequest"):
        return "rotation requested"
    upcoming = parse_time(status.get("nextRotationTime"))
    if upcoming is not None and now >= upcoming and spec.rotation is not None and spec.rotation.enabled:
        return "rotation"
    interval = spec.target.refresh_interval_seconds if spec.target else DEFAULT_REFRESH_SECONDS
    last = parse_time(status.get("lastRefreshTime") or status.get("lastSyncTime"))
    if last is None or now >= last + dt.timedelta(seconds=interval):
        return "refresh"
    return None
