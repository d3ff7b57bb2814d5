"""Every Prometheus metric the operator exports, defined once.

Labels are bounded: kinds, AWS operations and outcomes are small fixed sets;
the per-resource gauges carry namespace and name, one series per custom
resource, and are removed when the resource goes away. No label ever holds a
secret value.
"""

from __future__ import annotations

import contextlib

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "AWS_ATTEMPTS_TOTAL",
    "AWS_CALL_SECONDS",
    "LATENCY_BUCKETS",
    "RECONCILE_SECONDS",
    "RECONCILE_TOTAL",
    "RESOURCE_READY",
    "forget_resource",
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


def forget_resource(kind: str, namespace: str, name: str) -> None:
    """Drop the per-resource series of a deleted resource."""
    with contextlib.suppress(KeyError):
        RESOURCE_READY.remove(kind, namespace, name)
