"""Every Prometheus metric the operator exports, defined once.

Labels are bounded: kinds, AWS operations and outcomes are small fixed sets;
the per-resource gauges carry namespace and name, one series per custom
resource, and are removed when the resource goes away. No label ever holds a
secret value.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "ALARM_STATES",
    "AWS_ALARM_STATE",
    "AWS_ATTEMPTS_TOTAL",
    "AWS_CALL_SECONDS",
    "LATENCY_BUCKETS",
    "RECONCILE_SECONDS",
    "RECONCILE_TOTAL",
    "RESOURCE_LAST_PASS",
    "RESOURCE_READY",
    "SECRET_VERSION_CREATED",
    "forget_resource",
    "set_alarm_states",
]

# A boundary sits exactly at 0.1 s: the platform's latency objective.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

RECONCILE_TOTAL = Counter(
    "upskill_reconcile_total",
    "Reconcile passes, by kind and result (ready, progressing, recoverable, terminal, deleted).",
    ["kind", "result"],
)
RECONCILE_SECONDS = Histogram(
    "upskill_reconcile_duration_seconds",
    "Wall time of one reconcile pass, by kind.",
    ["kind"],
    buckets=LATENCY_BUCKETS,
)
AWS_CALL_SECONDS = Histogram(
    "upskill_aws_api_call_duration_seconds",
    "Latency of AWS API calls including botocore retries, by service, operation and outcome.",
    ["service", "operation", "outcome"],
    buckets=LATENCY_BUCKETS,
)
AWS_ATTEMPTS_TOTAL = Counter(
    "upskill_aws_api_attempts_total",
    "HTTP attempts botocore made (retries included), by service and operation.",
    ["service", "operation"],
)
RESOURCE_READY = Gauge(
    "upskill_resource_ready",
    "1 when the custom resource's Ready condition is True, else 0.",
    ["kind", "namespace", "name"],
)
RESOURCE_LAST_PASS = Gauge(
    "upskill_resource_last_pass_timestamp_seconds",
    "When the last reconcile pass of the custom resource ended, as Unix time (status.lastSyncTime "
    "moves only when a pass changes status).",
    ["kind", "namespace", "name"],
)


SECRET_VERSION_CREATED = Gauge(
    "upskill_secret_version_created_timestamp_seconds",
    "When the UpskillSecret's current value (AWSCURRENT version) was created, as Unix time; "
    "time() minus it is the value's age since its last rotation.",
    ["namespace", "name"],
)


AWS_ALARM_STATE = Gauge(
    "upskill_aws_alarm_state",
    "1 for the state a CloudWatch alarm of the resource is in (OK, ALARM, INSUFFICIENT_DATA), 0 for the others.",
    ["kind", "namespace", "name", "alarm", "state"],
)
ALARM_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
_alarms_shown: dict[tuple[str, str, str], set[str]] = {}
_alarms_lock = threading.Lock()


def set_alarm_states(kind: str, namespace: str, name: str, alarms: Sequence[Mapping[str, Any]]) -> None:
    """Show each alarm's state (one series per state, 1 for the current one); drop alarms no longer listed."""
    key = (kind, namespace, name)
    with _alarms_lock:
        now = {str(a.get("name")) for a in alarms}
        for gone in _alarms_shown.get(key, set()) - now:
            _drop_alarm(key, gone)
        for alarm in alarms:
            for state in ALARM_STATES:
                value = 1.0 if alarm.get("state") == state else 0.0
                AWS_ALARM_STATE.labels(kind, namespace, name, str(alarm.get("name")), state).set(value)
        _alarms_shown[key] = now


def _drop_alarm(key: tuple[str, str, str], alarm: str) -> None:
    for state in ALARM_STATES:
        with contextlib.suppress(KeyError):
            AWS_ALARM_STATE.remove(*key, alarm, state)


def forget_resource(kind: str, namespace: str, name: str) -> None:
    """Drop the per-resource series of a deleted resource."""
    set_alarm_states(kind, namespace, name, ())
    with contextlib.suppress(KeyError):
        RESOURCE_READY.remove(kind, namespace, name)
    with contextlib.suppress(KeyError):
        RESOURCE_LAST_PASS.remove(kind, namespace, name)
    with contextlib.suppress(KeyError):
        SECRET_VERSION_CREATED.remove(namespace, name)


# Latency probes (probes/window.py). Finer buckets below the objective: a healthy probe takes a few
# milliseconds, and the boundary sits exactly at 0.1 s, the objective. A failed or timed-out
# probe is never observed here; it only increments the failure counter, by a bounded reason.
PROBE_FAILURE_REASONS = ("timeout", "connect", "auth", "query", "unavailable", "error")
PROBE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PROBE_SECONDS = Histogram(
    "upskill_probe_latency_seconds",
    "Round-trip time of one successful latency probe (SELECT 1, or DynamoDB GetItem), per endpoint.",
    ["kind", "namespace", "name", "endpoint"],
    buckets=PROBE_BUCKETS,
)
PROBE_FAILURES_TOTAL = Counter(
    "upskill_probe_failures_total",
    "Latency probes that got no good answer (timeouts included), per endpoint and reason.",
    ["kind", "namespace", "name", "endpoint", "reason"],
)


def forget_probe(kind: str, namespace: str, name: str, endpoint: str) -> None:
    """Drop the probe series of one endpoint of a resource that is gone (or no longer probed)."""
    with contextlib.suppress(KeyError):
        PROBE_SECONDS.remove(kind, namespace, name, endpoint)
    for reason in PROBE_FAILURE_REASONS:
        with contextlib.suppress(KeyError):
            PROBE_FAILURES_TOTAL.remove(kind, namespace, name, endpoint, reason)


# The stuck-object sweeper (handlers/sweeper.py). Each nudge is an object kopf had stopped working on
# (a lost wake-up, usually a 409 on one of its own PATCHes); a steady rate means something keeps losing them.
SWEEPER_NUDGES_TOTAL = Counter(
    "upskill_sweeper_nudges_total",
    "Objects the sweeper woke because work on them had stalled, by kind and why.",
    ["kind", "reason"],
)
