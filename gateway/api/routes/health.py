"""Liveness (``/health``) and readiness (``/ready``) with per-dependency status."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.deps import ResourcesDep
from yiwang.errors import DomainError

router = APIRouter(tags=["health"])
SERVICES = ("petitions", "grids", "command", "volunteers", "enterprise")


@router.get("/health", summary="Process is up")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="Broker, database, Redis and every service answer")
async def ready(res: ResourcesDep) -> JSONResponse:
    async def check_db() -> str:
        def ping() -> None:
            with res.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))

        await asyncio.wait_for(asyncio.to_thread(ping), 3)
        return "ok"

    async def check_redis() -> str:
        await asyncio.wait_for(res.redis.ping(), 3)
        return "ok"

    async def check_broker() -> str:
        return "ok" if res.rpc.connected else "down"

    async def check_service(name: str) -> str:
        reply = await res.rpc.call(name, "health", timeout_s=3)
        return "ok" if reply["status"] == "ok" else "degraded"

    names = ["database", "redis", "broker", *[f"service:{s}" for s in SERVICES]]
    coros = [check_db(), check_redis(), check_broker(), *[check_service(s) for s in SERVICES]]
    results = await asyncio.gather(*coros, return_exceptions=True)
    checks: dict[str, Any] = {}
    for name, r in zip(names, results, strict=True):
        if isinstance(r, DomainError):
            checks[name] = f"down: {r.message_en}"
        elif isinstance(r, BaseException):
            checks[name] = f"down: {type(r).__name__}"
        else:
            checks[name] = r
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks},
                        status_code=200 if ok else 503)
