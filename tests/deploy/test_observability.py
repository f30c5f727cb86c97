"""deploy/prometheus/alerts.yml and deploy/grafana/yiwang.json use only metrics (and labels)
that yiwang/metrics.py registers, cover what an operator must be woken for, and the
dashboard shows every metric."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from yiwang import metrics

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ALERTS = os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "yiwang.json")
# labels Prometheus adds to every scraped series (target and Kubernetes discovery)
TARGET_LABELS = {"instance", "job", "pod", "namespace"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset"}


def registered() -> dict[str, set[str]]:
    """Every series name the code can expose -> its label names."""
    out: dict[str, set[str]] = {}
    for obj in vars(metrics).values():
        if not isinstance(obj, MetricWrapperBase):
            continue
        name, kind, labels = obj._name, obj._type, set(obj._labelnames)
        if kind == "histogram":
            out[f"{name}_bucket"] = labels | {"le"}
            out[f"{name}_count"] = out[f"{name}_sum"] = labels
        elif kind == "counter":
            out[f"{name}_total"] = labels
        else:
            out[name] = labels
    for name, labels in metrics.COLLECTED_LABELS.items():
        out[name] = set(labels)
    return out


def family(series: str) -> str:
    return re.sub(r"_(bucket|count|sum|total)$", "", series)


def check_expr(expr: str, known: dict[str, set[str]]) -> set[str]:
    """Raise on an unknown metric or label; return the metrics used."""
    assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), expr
    used = set(re.findall(r"\byiwang_[a-z0-9_]+", expr))
    assert used, f"no yiwang metric in {expr!r}"
    for name in used:
        assert name in known, f"{name} is not registered by yiwang/metrics.py ({expr!r})"
    for name, matchers in re.findall(r"\b(yiwang_[a-z0-9_]+)\{([^}]*)\}", expr):
        for label in re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", matchers):
            assert label in known[name], f"{name} has no label {label!r}"
    allowed = set().union(*(known[n] for n in used)) | TARGET_LABELS
    for clause in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr):
        for label in filter(None, (x.strip() for x in clause.split(","))):
            assert label in allowed, f"label {label!r} is on none of {used} ({expr!r})"
    return used


def test_metric_names_lists_exactly_what_is_registered() -> None:
    assert {family(s) for s in registered()} == set(metrics.METRIC_NAMES)


def test_the_checker_fails_on_unknown_metrics_and_labels() -> None:
    known = registered()
    for bad in (
        "rate(yiwang_nope_total[5m])",
        'yiwang_dead_letters_total{queue="q", statuz="x"}',
        "sum by (schemaa) (yiwang_outbox_backlog)",
        "yiwang_dead_letters",
    ):  # a counter is exposed as _total
        with pytest.raises(AssertionError):
            check_expr(bad, known)


def _rules() -> list[dict[str, Any]]:
    with open(ALERTS, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    return [r for g in doc["groups"] for r in g["rules"]]


def test_alert_rules_use_registered_metrics_and_are_complete() -> None:
    known = registered()
    names = set()
    by_metric: dict[str, list[str]] = {}
    for rule in _rules():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert re.fullmatch(r"Yiwang[A-Za-z]+", rule["alert"]) and rule["alert"] not in names
        names.add(rule["alert"])
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        for m in check_expr(rule["expr"], known):
            by_metric.setdefault(m, []).append(rule["expr"])
    # what the issue asks to be alerted on: outbox age, dead letters, overdue spike, errors
    assert "yiwang_outbox_oldest_age_seconds" in by_metric
    assert "yiwang_dead_letters_total" in by_metric
    assert any('action="overdue"' in e for e in by_metric["yiwang_sla_sweep_cases_total"])
    assert any(
        'status=~"5.."' in e for e in by_metric["yiwang_http_request_duration_seconds_count"]
    )
    assert any(
        'outcome="error"' in e for e in by_metric["yiwang_entrypoint_duration_seconds_count"]
    )


def test_dashboard_uses_registered_metrics_shows_all_of_them_and_panels_do_not_overlap() -> None:
    with open(DASHBOARD, encoding="utf-8") as fh:
        dash = json.load(fh)
    known = registered()
    assert dash["uid"] and dash["title"]
    assert [v["name"] for v in dash["templating"]["list"]] == ["datasource"]
    shown: set[str] = set()
    cells: set[tuple[int, int]] = set()
    for panel in dash["panels"]:
        g = panel["gridPos"]
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24, panel["title"]
        mine = {
            (x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])
        }
        assert not mine & cells, f"{panel['title']} overlaps another panel"
        cells |= mine
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for t in panel["targets"]:
            shown |= {family(m) for m in check_expr(t["expr"], known)}
    assert shown == set(metrics.METRIC_NAMES), set(metrics.METRIC_NAMES) - shown
