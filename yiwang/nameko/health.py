"""The ``health`` RPC every service answers: process up and its database reachable."""

from __future__ import annotations

import sqlalchemy as sa

from yiwang.contracts.health import HealthResponse
from yiwang.uow import UnitOfWork


def db_health(service: str, uow: UnitOfWork) -> HealthResponse:
    checks: dict[str, str] = {}
    try:
        with uow:
            uow.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["database"] = f"down: {type(exc).__name__}"
    status = "ok" if all(v == "ok" for v in checks.values()) else "degraded"
    return HealthResponse(service=service, status=status, checks=checks)
