"""UpskillTable latency probes end to end: the real operator's daemon, GetItem on the moto server, status written.

Slowness and failures are injected with an attempt observer (``bed.hooks``) on the GetItem attempts the
operator makes: after botocore has serialised the request, the hook sleeps (a slow table) or
answers with a 500 (an unavailable one). Nothing in the operator is patched.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from upskill_operator import metrics
from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import Bed, condition, is_ready, wait_for
from e2e.test_tables import table_doc

pytestmark = pytest.mark.e2e


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class GetItemFault:
    """Delays or fails the operator's GetItem attempts; other calls pass untouched."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.fail = False

    def __call__(self, service: str, operation: str) -> AWSResponse | None:
        if (service, operation) != ("dynamodb", "GetItem"):
            return None
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            body = b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected"}'
            return AWSResponse("https://dynamodb", 500, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body))
        return None


@pytest.fixture
def fault(bed: Bed) -> Iterator[GetItemFault]:
    hook = GetItemFault()
    bed.hooks.attempts.append(hook)
    try:
        yield hook
    finally:
        bed.hooks.attempts.remove(hook)


@pytest.fixture
def probing(bed: Bed) -> Iterator[OperatorThread]:
    """The operator with fast probe rounds and a status write on every round."""
    saved = bed.settings
    bed.settings = saved.model_copy(update={"probe_interval_seconds": 0.2, "probe_status_seconds": 0.01})
    try:
        yield bed.start_operator()
    finally:
        bed.stop_operator()
        bed.settings = saved


def probe_samples(name: str) -> float:
    for family in metrics.PROBE_SECONDS.collect():
        for sample in family.samples:
            if sample.name.endswith("_count") and sample.labels.get("name") == name:
                return float(sample.value)
    return 0.0


def latency_condition(bed: Bed, name: str) -> dict[str, Any]:
    return condition(bed.get("upskilltables", name), "LatencyWithinSLO")


def test_a_probed_table_reports_latency_then_slowness_then_failure(
    bed: Bed, probing: OperatorThread, fault: GetItemFault
) -> None:
    name = f"probed-{uuid.uuid4().hex[:6]}"
    bed.apply(table_doc(name, probe={"intervalSeconds": 5, "sloMilliseconds": 1000}))
    wait_for(lambda: is_ready(bed.get("upskilltables", name)), 30, "Ready")

    ok = wait_for(lambda: (c := latency_condition(bed, name)).get("status") == "True" and c, 30, "LatencyWithinSLO")
    assert ok["reason"] == "WithinSLO"
    latency = bed.get("upskilltables", name)["status"]["latency"]  # type: ignore[index]
    assert 0 < latency["p50Ms"] <= latency["p99Ms"] <= 1000
    assert latency["lastProbeTime"].endswith("Z")
    assert probe_samples(name) >= 1
    assert is_ready(bed.get("upskilltables", name))  # the probe's writes leave the reconcile conditions alone

    fault.delay = 1.1
    slow = wait_for(lambda: (c := latency_condition(bed, name)).get("status") == "False" and c, 30, "slow")
    assert slow["reason"] == "LatencyAboveSLO"
    assert "table: p99" in slow["message"]

    fault.delay, fault.fail = 0.0, True
    failing = wait_for(lambda: (c := latency_condition(bed, name)).get("reason") == "ProbeFailing" and c, 30, "failing")
    assert failing["status"] == "False"
    assert "unavailable" in failing["message"]


def test_removing_the_probe_clears_its_status_and_deleting_stops_it(bed: Bed, probing: OperatorThread) -> None:
    name = f"probed-{uuid.uuid4().hex[:6]}"
    doc = table_doc(name, probe={"intervalSeconds": 5, "sloMilliseconds": 1000})
    bed.apply(doc)
    wait_for(lambda: latency_condition(bed, name).get("status") == "True", 30, "LatencyWithinSLO")

    doc["spec"]["probe"] = None  # apply is a merge patch: null removes the field
    bed.apply(doc)
    wait_for(lambda: not latency_condition(bed, name), 30, "the condition removed")
    assert "latency" not in (bed.get("upskilltables", name) or {}).get("status", {})
    assert probe_samples(name) == 0  # the series went with the probe

    doc["spec"]["probe"] = {"intervalSeconds": 5, "sloMilliseconds": 1000}
    bed.apply(doc)
    wait_for(lambda: probe_samples(name) > 0, 30, "probing again")
    bed.delete("upskilltables", name)
    wait_for(lambda: bed.get("upskilltables", name) is None, 30, "deleted")
    wait_for(lambda: probe_samples(name) == 0, 10, "probe series removed")
