"""Every metric in upskill_operator.metrics follows Prometheus' conventions and is documented.

The list of metrics is read from the module, so a metric added there is checked (and must be
documented in docs/metrics.md) at once. ``promtool check metrics`` lints an exposition holding
one sample of each metric.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from delivery.kustomize import ROOT
from delivery.promql import Family, exported

DOCS = ROOT / "docs" / "metrics.md"
BASE_UNITS = ("_seconds", "_bytes", "_ratio", "_celsius", "_meters", "_volts", "_amperes", "_joules", "_grams")
NOT_BASE_UNITS = re.compile(
    r"_(milli|micro|nano)?(ms|us|ns|millis|milliseconds|microseconds|minutes|hours|days|kb|mb)(_|$)"
)
# Labels whose values are unbounded (one series per request, error or object id) or may carry secrets.
FORBIDDEN_LABELS = {
    "arn", "uid", "id", "request_id", "error", "message", "reason_text", "url", "host", "hostname", "user",
    "username", "password", "secret", "token", "value", "sql", "query", "statement", "key", "version_id",
}  # fmt: skip


def test_there_are_metrics() -> None:
    assert len(exported()) >= 5


@pytest.mark.parametrize("family", sorted(exported().values(), key=lambda f: f.name), ids=lambda f: f.name)
def test_names_and_labels_follow_the_conventions(family: Family) -> None:
    name = family.name
    assert re.fullmatch(r"upskill_[a-z][a-z0-9_]*", name), "upskill_ prefix, snake_case"
    assert not NOT_BASE_UNITS.search(name), "base units only (seconds, bytes)"
    if family.type == "histogram" or family.type == "summary":
        assert name.endswith(BASE_UNITS), f"{name}: a distribution is named after its base unit"
    if family.type == "gauge":
        assert not name.endswith("_total"), "_total is for counters"
        if "timestamp" in name:
            assert name.endswith("_timestamp_seconds"), "timestamps are unix seconds"
    assert family.documentation, "HELP text"
    assert not family.documentation[0].islower(), "HELP text is a sentence"
    for label in family.labels:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", label), f"label {label}: snake_case"
        assert label not in FORBIDDEN_LABELS, f"label {label}: unbounded or secret"
        assert not label.startswith("__")
    if family.unit_buckets:
        assert 0.1 in family.unit_buckets, "a bucket boundary at the 100 ms objective"


def test_every_metric_is_documented_and_every_documented_metric_exists() -> None:
    text = DOCS.read_text(encoding="utf-8")
    families = exported()
    for family in families.values():
        shown = family.name + ("_total" if family.type == "counter" else "")
        row = next((line for line in text.splitlines() if line.startswith(f"| `{shown}`")), None)
        assert row is not None, f"docs/metrics.md has no row for {shown}"
        for label in family.labels:
            assert f"`{label}`" in row, f"docs/metrics.md: {shown} does not describe its label {label}"
    documented = set(re.findall(r"^\| `(upskill_[a-z0-9_]+)`", text, re.M))
    known = {f.name + ("_total" if f.type == "counter" else "") for f in families.values()}
    assert documented <= known, f"docs/metrics.md documents metrics the operator lacks: {sorted(documented - known)}"


class _OneSampleEach(Collector):
    def collect(self):  # type: ignore[no-untyped-def]
        for family in exported().values():
            labels = list(family.labels)
            values = ["x"] * len(labels)
            if family.type == "counter":
                metric = CounterMetricFamily(family.name, family.documentation, labels=labels)
                metric.add_metric(values, 1.0)
            elif family.type == "histogram":
                metric = HistogramMetricFamily(family.name, family.documentation, labels=labels)
                buckets = [(str(b) if b != float("inf") else "+Inf", 1.0) for b in family.unit_buckets]
                metric.add_metric(values, buckets=buckets, sum_value=0.05)
            else:
                metric = GaugeMetricFamily(family.name, family.documentation, labels=labels)
                metric.add_metric(values, 1.0)
            yield metric


def test_promtool_lints_the_exposition() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")
    registry = CollectorRegistry()
    registry.register(_OneSampleEach())
    exposition = generate_latest(registry)
    result = subprocess.run([promtool, "check", "metrics"], input=exposition, capture_output=True, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr).decode()
