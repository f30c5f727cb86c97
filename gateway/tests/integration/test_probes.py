"""/live, /ready and /health: one service's outage leaves the gateway ready, /health says it."""

from __future__ import annotations

import pytest

from gateway.tests.conftest import gateway_client
from yiwang.errors import Unavailable

pytestmark = pytest.mark.integration


def test_one_service_down_leaves_the_gateway_ready_but_not_healthy(resources) -> None:  # type: ignore[no-untyped-def]
    with gateway_client(resources) as c:
        assert c.get("/live").json() == {"status": "ok"}
        assert c.get("/health").status_code == 200  # every (fake) service answers

        def down(**_: object) -> None:
            raise Unavailable("service_unavailable", "grids did not answer", "网格服务无响应")

        c.fake_rpc.answers[("grids", "health")] = down  # type: ignore[attr-defined]
        r = c.get("/ready")
        assert r.status_code == 200, r.text
        assert r.json() == {
            "status": "ready",
            "checks": {"database": "ok", "redis": "ok", "broker": "ok"},
        }
        h = c.get("/health")
        assert h.status_code == 503
        assert h.json()["checks"]["service:grids"].startswith("down:")
        assert h.json()["checks"]["service:petitions"] == "ok"


def test_ready_fails_when_its_own_broker_connection_is_down(resources) -> None:  # type: ignore[no-untyped-def]
    with gateway_client(resources) as c:
        c.fake_rpc.connected = False  # type: ignore[attr-defined]
        r = c.get("/ready")
        assert r.status_code == 503
        assert r.json()["checks"]["broker"] == "down"
        assert c.get("/live").status_code == 200
