"""Prometheus rules, their unit tests, the Grafana dashboard and the ServiceMonitor.

Rules are validated and unit-tested by ``promtool`` (Debian's ``prometheus`` package;
``make test`` installs it). Every metric and label the rules and the dashboard read must
be one the operator exports: the exported set is read from ``upskill_operator.metrics``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from delivery.kustomize import ROOT, build, one
from delivery.promql import TARGET_LABELS, Family, exported, parse, sample_names, template_free, walk_exprs

PROMTOOL = shutil.which("promtool")
RULES = ROOT / "manifests" / "monitoring" / "prometheusrule.yaml"
DASHBOARD = ROOT / "manifests" / "monitoring" / "dashboards" / "upskill-operator.json"
RUNBOOKS = ROOT / "docs" / "runbooks.md"
UNIT_TESTS = Path(__file__).parent / "promtool" / "alerts_test.yaml"
SYNTHETIC = {"up"}  # series Prometheus makes itself
WANTED_ALERTS = {
    "UpskillProbeLatencyHigh",
    "UpskillProbeFailing",
    "UpskillResourceNotReady",
    "UpskillReconcileErrors",
    "UpskillAwsThrottling",
    "UpskillOperatorDown",
}


def _promtool() -> str:
    if PROMTOOL is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus; `make test` does it when it can)")
    return PROMTOOL


def _groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load(RULES.read_text(encoding="utf-8"))["spec"]["groups"]
    return groups


def _rules() -> list[dict[str, Any]]:
    return [rule for group in _groups() for rule in group["rules"]]


def _alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in _rules() if "alert" in rule}


def _recorded() -> dict[str, set[str]]:
    """Recording rule name -> the labels its series keep (its outermost ``by`` clause)."""
    out: dict[str, set[str]] = {}
    for rule in _rules():
        if "record" in rule:
            _, labels, _ = parse(rule["expr"])
            out[rule["record"]] = labels - {"le"}
    return out


def _write_rules(directory: Path) -> Path:
    path = directory / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": _groups()}, sort_keys=False), encoding="utf-8")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=120)


def test_promtool_accepts_the_rules(tmp_path: Path) -> None:
    result = _run(_promtool(), "check", "rules", str(_write_rules(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_fires_in_the_promtool_unit_tests(tmp_path: Path) -> None:
    _write_rules(tmp_path)
    shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name)
    result = _run(_promtool(), "test", "rules", str(tmp_path / UNIT_TESTS.name))
    assert result.returncode == 0, result.stdout + result.stderr
    fired = {
        case["alertname"]
        for test in yaml.safe_load(UNIT_TESTS.read_text(encoding="utf-8"))["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert fired == set(_alerts()), "every alert needs a promtool unit test that fires it"


def test_the_required_alerts_exist_with_severity_and_runbook() -> None:
    alerts = _alerts()
    assert set(alerts) >= WANTED_ALERTS
    runbooks = RUNBOOKS.read_text(encoding="utf-8")
    anchors = {
        re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in re.findall(r"^#+ (.+)$", runbooks, re.M)
    }
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        assert {"summary", "description", "runbook_url"} <= set(rule["annotations"]), name
        url = rule["annotations"]["runbook_url"]
        assert url.split("#")[0].endswith("/docs/runbooks.md"), name
        assert url.split("#")[1] in anchors, f"{name}: docs/runbooks.md has no section #{url.split('#')[1]}"


def _check_expr(expr: str, where: str, families: dict[str, Family], recorded: dict[str, set[str]]) -> None:
    samples = sample_names(families)
    names, labels, matched = parse(expr)
    known_labels = set(TARGET_LABELS) | {"le"}
    for name in names:
        if name in recorded:
            known_labels |= recorded[name]
            continue
        assert name in samples or name in SYNTHETIC, f"{where}: {name} is not exported by upskill_operator.metrics"
        if name in samples:
            known_labels |= set(samples[name].labels)
            unknown = matched.get(name, set()) - set(samples[name].labels) - TARGET_LABELS - {"le"}
            assert not unknown, f"{where}: {name} has no label {sorted(unknown)}"
    assert labels <= known_labels, f"{where}: labels {sorted(labels - known_labels)} exist on none of {sorted(names)}"


def test_rules_read_only_exported_metrics_and_labels() -> None:
    families, recorded = exported(), _recorded()
    for rule in _rules():
        _check_expr(rule["expr"], rule.get("alert") or rule["record"], families, recorded)


def test_the_metric_check_itself_catches_unknown_names() -> None:
    families, recorded = exported(), _recorded()
    with pytest.raises(AssertionError, match="not exported"):
        _check_expr("rate(upskill_no_such_metric_total[5m])", "t", families, recorded)
    with pytest.raises(AssertionError, match="no label"):
        _check_expr('upskill_resource_ready{colour="red"}', "t", families, recorded)


def _dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def test_the_dashboard_reads_only_exported_metrics() -> None:
    families, recorded = exported(), _recorded()
    exprs = walk_exprs(_dashboard())
    assert len(exprs) >= 10
    for expr in exprs:
        query = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", expr.strip())
        if query:
            selector, label = query.groups()
            _check_expr(selector, f"variable {expr}", families, recorded)
            assert label in {lab for n in parse(selector)[0] for lab in sample_names(families)[n].labels}
            continue
        _check_expr(expr, f"dashboard: {expr}", families, recorded)


def test_promtool_parses_every_dashboard_query(tmp_path: Path) -> None:
    exprs = [e for e in walk_exprs(_dashboard()) if not e.startswith("label_values(")]
    rules = [{"record": f"dashboard:query:{i}", "expr": template_free(e)} for i, e in enumerate(exprs)]
    path = tmp_path / "dashboard.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    result = _run(_promtool(), "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboard_covers_what_operators_look_at() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"]
    assert dashboard["title"]
    panels = [p for p in _panels(dashboard) if p["type"] != "row"]
    text = {p["title"]: " ".join(walk_exprs(p)) for p in panels}
    everything = " ".join(text.values())
    for metric in ("upskill_reconcile_total", "upskill_reconcile_duration_seconds_bucket"):
        assert metric in everything
    assert re.search(r"upskill_aws_api_call_duration_seconds_\w+.*by \(service, operation", everything)
    heatmaps = [p for p in panels if p["type"] == "heatmap"]
    assert heatmaps
    assert "upskill_probe_latency_seconds_bucket" in " ".join(walk_exprs(heatmaps))
    slo = [p for p in panels if "p99_5m" in text[p["title"]]]
    assert slo, "a panel of the p99 recording rule"
    assert slo[0]["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"] == 0.1, "the SLO line"
    assert "upskill_resource_ready" in everything
    rotation = [f for f in exported().values() if "rotat" in f.name]
    for family in rotation:
        assert family.name in everything, f"the dashboard shows no panel of {family.name}"
    for panel in panels:
        assert panel.get("datasource", {}).get("uid") == "${datasource}", panel["title"]
        assert panel.get("description"), f"{panel['title']}: say what the panel shows"


def test_the_dashboard_ships_as_a_sidecar_configmap() -> None:
    objects = build("manifests/monitoring")
    config_map = one(objects, "ConfigMap", "upskill-operator-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["upskill-operator.json"]) == _dashboard()


def test_the_service_monitor_scrapes_the_metrics_service() -> None:
    objects = build("manifests/overlays/prod")
    monitor = one(objects, "ServiceMonitor", "upskill-operator")
    service = one(objects, "Service", "upskill-operator")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert service["metadata"]["namespace"] in monitor["spec"]["namespaceSelector"]["matchNames"]
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["honorLabels"] is True, "our namespace/endpoint labels must not become exported_*"
    # The OperatorDown alert matches the job label, which is the Service's name.
    assert f'job="{service["metadata"]["name"]}"' in _alerts()["UpskillOperatorDown"]["expr"]
    rule = one(objects, "PrometheusRule", "upskill-operator")
    assert rule["spec"]["groups"] == _groups()


AWS_DASHBOARD = ROOT / "manifests" / "monitoring" / "dashboards" / "upskill-aws.json"


def _aws_dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(AWS_DASHBOARD.read_text(encoding="utf-8"))
    return data


def test_the_aws_dashboard_loads_without_a_cloudwatch_data_source() -> None:
    """CloudWatch panels name their data source through a datasource variable, never a fixed uid: where no
    CloudWatch data source exists the variable is empty, the panels show no data, and the dashboard loads."""
    dashboard = _aws_dashboard()
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert (variables["cloudwatch"]["type"], variables["cloudwatch"]["query"]) == ("datasource", "cloudwatch")
    assert (variables["datasource"]["type"], variables["datasource"]["query"]) == ("datasource", "prometheus")
    panels = [p for p in _panels(dashboard) if p["type"] != "row"]
    cloudwatch = [t for p in panels for t in p["targets"] if t["datasource"]["type"] == "cloudwatch"]
    assert len(cloudwatch) >= 8
    for panel in panels:
        assert panel.get("description"), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in ("${cloudwatch}", "${datasource}"), panel["title"]
    for target in cloudwatch:  # keyed by the AWS names status records: <prefix>-<namespace>-<name>
        assert target["namespace"] in ("AWS/RDS", "AWS/DynamoDB")
        key = (
            "DBClusterIdentifier" if "DBClusterIdentifier" in target["dimensions"] else next(iter(target["dimensions"]))
        )
        assert target["dimensions"][key] in ("$prefix-$namespace-$database", "$prefix-$namespace-$table"), target
    text = " ".join(json.dumps(t) for t in cloudwatch)
    for metric in ("DatabaseConnectionsBorrowLatency", "ACUUtilization", "ReadThrottleEvents"):
        assert metric in text


def test_the_aws_dashboard_sets_aws_and_app_side_latency_side_by_side() -> None:
    families, recorded = exported(), _recorded()
    exprs = walk_exprs(_aws_dashboard())
    for expr in exprs:
        query = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", expr.strip())
        _check_expr(query.group(1) if query else expr, f"aws dashboard: {expr}", families, recorded)
    assert any("probe_latency_seconds:p99_5m" in e and "UpskillDatabase" in e for e in exprs)
    assert any("upskill_aws_alarm_state" in e for e in exprs)


def test_the_aws_dashboard_ships_as_a_sidecar_configmap(tmp_path: Path) -> None:
    config_map = one(build("manifests/monitoring"), "ConfigMap", "upskill-aws-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["upskill-aws.json"]) == _aws_dashboard()
    exprs = [e for e in walk_exprs(_aws_dashboard()) if not e.startswith("label_values(")]
    rules = [{"record": f"dashboard:query:{i}", "expr": template_free(e)} for i, e in enumerate(exprs)]
    path = tmp_path / "aws-dashboard.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    result = _run(_promtool(), "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
