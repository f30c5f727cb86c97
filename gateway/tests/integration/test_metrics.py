"""The gateway's /metrics: latency per route template, pool, live subscribers."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.tests.conftest import gateway_client

pytestmark = pytest.mark.integration


def _value(text: str, name: str, **labels: str) -> float | None:
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


def test_gateway_metrics_count_requests_by_route_template(resources) -> None:  # type: ignore[no-untyped-def]
    with gateway_client(resources) as c:
        before = c.get("/metrics").text
        n0 = (
            _value(
                before,
                "yiwang_http_request_duration_seconds_count",
                method="GET",
                route="/api/v1/cases/{case_id}",
                status="401",
            )
            or 0.0
        )
        for _ in range(3):
            assert c.get(f"/api/v1/cases/{uuid.uuid4()}").status_code == 401
        assert c.get("/no/such/path").status_code == 404
        r = c.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert (
        _value(
            text,
            "yiwang_http_request_duration_seconds_count",
            method="GET",
            route="/api/v1/cases/{case_id}",
            status="401",
        )
        == n0 + 3
    )
    assert (
        _value(text, "yiwang_http_request_duration_seconds_count", route="unmatched", status="404")
        or 0
    ) >= 1
    assert _value(text, "yiwang_db_pool_connections", pool="gateway", state="size") == 5.0
    assert _value(text, "yiwang_sse_subscribers") == 0.0
    assert "/api/v1/cases/" + "0" not in text  # raw paths never become labels
