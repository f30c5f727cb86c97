"""Probes: ``/live`` (the process answers), ``/ready`` (this gateway can serve: broker,
Redis and its database reachable) and ``/health`` (the operators' view: every dependency
and every service, 503 when any is down).

A load balancer or Kubernetes readiness probe uses ``/ready``: one service's outage must not
take every gateway out of rotation (the gateway answers that service's routes with 503 and
Retry-After itself). ``/health`` is what ``make up`` and the system tests wait for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.deps import Resources, ResourcesDep
from yiwang.errors import DomainError

router = APIRouter(tags=["health"])
SERVICES = ("petitions", "grids", "command", "volunteers", "enterprise")
CHECK_TIMEOUT_S = 3.0


async def _check_db(res: Resources) -> str:
    def ping() -> None:
        with res.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    await asyncio.wait_for(asyncio.to_thread(ping), CHECK_TIMEOUT_S)
    return "ok"


async def _check_redis(res: Resources) -> str:
    await asyncio.wait_for(res.redis.ping(), CHECK_TIMEOUT_S)
    return "ok"


async def _check_broker(res: Resources) -> str:
    return "ok" if res.rpc.connected else "down"


async def _check_service(res: Resources, name: str) -> str:
    reply = await res.rpc.call(name, "health", timeout_s=CHECK_TIMEOUT_S)
    return "ok" if reply["status"] == "ok" else "degraded"


def _gateway_checks(res: Resources) -> dict[str, Awaitable[str]]:
    return {"database": _check_db(res), "redis": _check_redis(res), "broker": _check_broker(res)}


async def _report(checks: dict[str, Awaitable[str]], ok_status: str) -> JSONResponse:
    results = await asyncio.gather(*checks.values(), return_exceptions=True)
    out: dict[str, Any] = {}
    for name, r in zip(checks, results, strict=True):
        if isinstance(r, DomainError):
            out[name] = f"down: {r.message_en}"
        elif isinstance(r, BaseException):
            out[name] = f"down: {type(r).__name__}"
        else:
            out[name] = r
    ok = all(v == "ok" for v in out.values())
    return JSONResponse(
        {"status": ok_status if ok else "not_" + ok_status, "checks": out},
        status_code=200 if ok else 503,
    )


@router.get("/live", summary="Process is up (liveness: restart the process only if this fails)")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="This gateway can serve: broker, database and Redis reachable")
async def ready(res: ResourcesDep) -> JSONResponse:
    return await _report(_gateway_checks(res), "ready")


@router.get("/health", summary="Operators' view: the gateway's dependencies and every service")
async def health(res: ResourcesDep) -> JSONResponse:
    checks = _gateway_checks(res)
    for s in SERVICES:
        checks[f"service:{s}"] = _check_service(res, s)
    return await _report(checks, "healthy")
