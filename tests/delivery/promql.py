"""What the operator exports and what our PromQL reads, for the monitoring tests.

Exported families come from the metric objects in ``upskill_operator.metrics`` (so a
metric added there is known at once). Metric and label names are pulled out of
PromQL by a small lexer: good enough for our rules and dashboard (strings, matchers,
grouping clauses, functions); ``promtool`` checks the full syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from prometheus_client.metrics import MetricWrapperBase

from upskill_operator import metrics

__all__ = ["TARGET_LABELS", "Family", "exported", "parse", "sample_names", "template_free"]

TARGET_LABELS = frozenset({"job", "instance", "pod", "service", "container", "namespace", "endpoint"})
"""Labels Prometheus (and the Prometheus Operator) add to every scraped series."""
_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf"}
)
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
_IDENT = re.compile(r"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w(])(?!\s*\()")


@dataclass(frozen=True)
class Family:
    name: str
    type: str
    labels: tuple[str, ...]
    documentation: str
    unit_buckets: tuple[float, ...] = ()

    def samples(self) -> set[str]:
        suffixes = {
            "counter": ("_total", "_created"),
            "histogram": ("_bucket", "_count", "_sum", "_created"),
            "summary": ("", "_count", "_sum", "_created"),
            "gauge": ("",),
        }[self.type]
        return {self.name + suffix for suffix in suffixes}


def exported() -> dict[str, Family]:
    """Family name (as exposed, without sample suffixes) -> Family, for every metric in metrics.py."""
    out: dict[str, Family] = {}
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            name = value._name  # prometheus_client strips _total from counters here
            labels = tuple(value._labelnames)
            buckets = tuple(getattr(value, "_upper_bounds", ()))
            out[name] = Family(name, value._type, labels, value._documentation, buckets)
    return out


def sample_names(families: dict[str, Family]) -> dict[str, Family]:
    """Every sample name a scrape can contain -> its family."""
    return {sample: family for family in families.values() for sample in family.samples()}


def template_free(expr: str) -> str:
    """A Grafana expression with its variables replaced, so Prometheus tooling can parse it."""
    expr = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$__range", "1h")
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def parse(expr: str) -> tuple[set[str], set[str], dict[str, set[str]]]:
    """(metric names, label names used anywhere, labels matched per metric) of one PromQL expression."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', template_free(expr))
    labels: set[str] = set()
    matched: dict[str, set[str]] = {}
    for _, group in _GROUPING.findall(text):
        labels |= {part.strip() for part in group.split(",") if part.strip()}
    text = _GROUPING.sub(" ", text)
    for name, inner in _SELECTOR.findall(text):
        keys = {m.group(1) for m in re.finditer(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)", inner)}
        labels |= keys
        if name:
            matched.setdefault(name, set()).update(keys)
    text = _SELECTOR.sub(lambda m: f" {m.group(1) or ''} ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range selectors
    names = {n for n in _IDENT.findall(text) if n.lower() not in _KEYWORDS}
    names = {n for n in names if not re.fullmatch(r"\d+[smhdwy]", n)}
    return names | set(matched), labels, matched


def walk_exprs(node: Any) -> list[str]:
    """Every ``expr`` (panel targets) and templating query string in a Grafana dashboard."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            query = key == "expr" or (key == "definition" and str(value).startswith("label_values("))
            if query and isinstance(value, str):
                found.append(value)
            else:
                found.extend(walk_exprs(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(walk_exprs(item))
    return found
